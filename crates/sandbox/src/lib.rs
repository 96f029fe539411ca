//! deskline-sandbox (being written).
