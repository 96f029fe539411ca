//! deskline-provider-xsi (being written).
