"""Write stage: rendered pages -> an output folder, swapped in atomically."""
