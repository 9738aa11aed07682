"""Results -> text: terminal tables, CSV, JSON (and, later, HDF5, plots, traces)."""
