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

/// The call a SIP URI dials, and its provider, if a provider compiled in says the URI is
/// one of its calls (see [`Registration::call_at_sip_uri`]): `sip:` or `sips:`, the user
/// and host read, parameters and port ignored.
///
/// ```
/// assert!(callhook::providers::call_dialed_at("sip:agent@pbx.example.com").is_none());
/// assert!(callhook::providers::call_dialed_at("+14155550100").is_none());
/// ```
pub fn call_dialed_at(uri: &str) -> Option<(crate::event::ProviderId, String)> {
    let rest = uri.trim().strip_prefix("sip:").or_else(|| uri.trim().strip_prefix("sips:"))?;
    let address = rest.split([';', '?', '>']).next()?;
    let (user, host) = address.split_once('@')?;
    let host = host.split(':').next()?;
    all().iter().find_map(|registration| {
        let call = (registration.call_at_sip_uri?)(user, host)?;
        Some((registration.id.clone(), call))
    })
}
