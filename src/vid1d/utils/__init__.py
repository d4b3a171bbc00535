"""Small helpers shared by every layer (no torch model code here)."""
