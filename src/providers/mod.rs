//! The providers, one folder each, each behind the cargo feature of its name.
//!
//! A provider folder holds its [`Provider`](crate::Provider) implementation and
//! configuration (`mod.rs`), its wire models (`model.rs`), its signature scheme
//! (`signature.rs`), the mapping to normalized events (`normalize.rs`) and, behind the
//! `testing` feature, helpers that build correctly signed requests (`testing.rs`).
//! Adding a provider adds a folder and one line below. `borrowed` holds what their
//! single-pass parsers share.

mod borrowed;

#[cfg(feature = "cloudtalk")]
pub mod cloudtalk;
#[cfg(feature = "retell")]
pub mod retell;
#[cfg(feature = "twilio")]
pub mod twilio;
#[cfg(feature = "wavoip")]
pub mod wavoip;
#[cfg(feature = "whatsapp")]
pub mod whatsapp;
