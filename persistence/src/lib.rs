//! Where Cairn snapshots live and what they look like. Knows nothing of actors.
