//! deskline-api (being written).
