"""File primitives shared by every layer: atomic writes, hashes, safe names, cached file facts."""
