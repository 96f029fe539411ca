//! deskline-sip (being written).
