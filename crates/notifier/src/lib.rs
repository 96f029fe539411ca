//! deskline-notifier (being written).
