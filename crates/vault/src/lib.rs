//! deskline-vault (being written).
