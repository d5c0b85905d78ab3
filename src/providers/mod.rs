//! The providers, one folder each, each behind the cargo feature of its name.
//!
//! A provider folder holds its [`Provider`](crate::Provider) implementation and
//! configuration (`mod.rs`), its wire models (`model.rs`), its signature scheme
//! (`signature.rs`), the mapping to normalized events (`normalize.rs`), its
//! [`Registration`] (`registration.rs`: settings, mount paths, recording hosts) and,
//! behind the `testing` feature, helpers that build correctly signed requests
//! (`testing.rs`, each with `signed(secret, url, body, at)`). Adding a provider adds a
//! folder, its feature in `Cargo.toml`, and one line below.
//!
//! ```
//! let ids: Vec<_> = callhook::providers::all().iter().map(|r| r.id.as_str()).collect();
//! assert!(ids.contains(&"twilio") && ids.contains(&"whatsapp"));
//! ```

pub mod registry;

pub use registry::Registration;

/// Declares the provider modules, each behind its feature, and [`all`].
macro_rules! providers {
    ($($feature:literal => $name:ident,)*) => {
        $(
            #[cfg(feature = $feature)]
            pub mod $name;
        )*

        static ALL: &[&Registration] = &[$(
            #[cfg(feature = $feature)]
            &$name::REGISTRATION,
        )*];

        /// Every provider compiled in (by feature), in a stable order.
        pub fn all() -> &'static [&'static Registration] {
            ALL
        }
    };
}

providers! {
    "twilio" => twilio,
    "whatsapp" => whatsapp,
    "retell" => retell,
    "cloudtalk" => cloudtalk,
    "wavoip" => wavoip,
    "telnyx" => telnyx,
    "vonage" => vonage,
}

/// The registration of `id`, if compiled in.
///
/// ```
/// use callhook::event::ProviderId;
/// let twilio = callhook::providers::find(&ProviderId::from_static("twilio")).unwrap();
/// assert_eq!(twilio.name, "Twilio");
/// ```
pub fn find(id: &crate::event::ProviderId) -> Option<&'static Registration> {
    all().iter().copied().find(|registration| registration.id == *id)
}
