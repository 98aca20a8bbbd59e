"""Reports built from run folders: the markdown leaderboard (HTML, plots and galleries follow)."""
