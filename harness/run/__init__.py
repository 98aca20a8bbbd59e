"""One evaluation run: the runner, its run folder and records, the prediction cache, loaders and controls."""
