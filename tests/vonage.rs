//! Vonage end to end.
