//! Sessions: sign in, sign in automatically, sign out; several accounts side by side.
