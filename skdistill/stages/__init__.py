"""The stages of a fit: plain functions that take values and return values."""
