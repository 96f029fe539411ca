//! deskline-store (being written).
