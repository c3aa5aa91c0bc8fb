"""The engine: wires feeds -> policy -> execution -> portfolio -> store, and supervises them."""
