//! Accounts: several accounts of one provider at once, each verified with its own keys,
//! and two keys per account while a secret is rotated.
//!
//! A CRM serving several businesses receives webhooks from many accounts of the same
//! provider: Twilio subaccounts, several Meta apps, several Retell workspaces. Each
//! [`Account`] has an [`AccountId`] (its label, stored with every event it sends), its
//! keys (the current one and, during a rotation, the next) and the names the provider
//! uses for it in requests (a Twilio `AccountSid`, a WhatsApp Business Account id, a
//! Vonage API key).
//!
//! # Which account verifies a request
//!
//! [`Accounts::verify`] keeps one rule for every provider:
//!
//! | the request names | verified against |
//! |---|---|
//! | an account (one of its [`names`](Account::named)) | that account's keys only |
//! | something no account is named by | the accounts named by nothing (catch-alls); none: [`VerifyError::UnknownAccount`] |
//! | nothing (the provider's requests carry no account id, or this one has none) | each account's keys in turn; the first that matches says which account sent it |
//!
//! So a signature valid for account A never authenticates a request that claims to be
//! account B: B's keys are the only ones tried. A request whose parts name two
//! different accounts is refused ([`VerifyError::AccountMismatch`]): one business must
//! not be configured under two accounts. Providers that read the account from the body
//! before verifying it read it as permissively as their parsers read the events, so a
//! body cannot name one account to the check and another to the event log.
//!
//! An account's events are its own: the receiver prefixes their dedupe keys with its
//! label ([`NewEvent::sent_by`](crate::event_log::NewEvent::sent_by)), so an account
//! that sends another's event ids first cannot make the other's events duplicates.
//! Folded call and message states are per provider and call id: two accounts reporting
//! the same call id fold into one state. The providers' ids are unique across their
//! accounts (Twilio SIDs, WhatsApp message ids, UUIDs), but with a shared token
//! (CloudTalk, WaVoIP) an account's holder could report another's call ids; the events
//! stay apart, the states do not.
//!
//! # Rotation
//!
//! An account has a current key and may have a next one; both verify. Which one
//! matched ([`KeySlot`]) is recorded with every delivery and counted
//! (`callhook_verified_total{provider, account, key}`), so an operator can see when
//! the provider stopped using the old key, then make the next key the current one.
//!
//! ```
//! use callhook::account::{Account, AccountId, Accounts, KeySlot};
//! use callhook::verify::{Secret, VerifyError};
//!
//! let accounts: Accounts<Secret> = Accounts::new(vec![
//!     Account::new("acme", "acme-old").next_key("acme-new").named("AC1"),
//!     Account::new("globex", "globex-key").named("AC2"),
//! ]);
//! // The provider's own check: does this key produce the presented signature?
//! let signed_with = |key: &str| {
//!     let key = key.to_owned();
//!     move |keys: &[Secret]| {
//!         keys.iter().position(|k| k.expose() == key).ok_or(VerifyError::SignatureMismatch)
//!     }
//! };
//! let verified = accounts.verify(&["AC1"], signed_with("acme-new")).unwrap();
//! assert_eq!(verified.account, Some(AccountId::new("acme")));
//! assert_eq!(verified.key, KeySlot::Next);
//! // Globex's key never authenticates a request that claims to be Acme's.
//! assert_eq!(accounts.verify(&["AC1"], signed_with("globex-key")), Err(VerifyError::SignatureMismatch));
//! assert_eq!(accounts.verify(&["AC9"], signed_with("globex-key")), Err(VerifyError::UnknownAccount));
//! ```

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::verify::{Secret, VerifyError};

/// The label of one account of a provider (`acme`, `brand-b`): chosen by whoever
/// configures callhook, stored with every event the account sends, and filterable in the
/// event log. Not a secret.
///
/// ```
/// use callhook::account::AccountId;
/// let id = AccountId::new("acme");
/// assert_eq!((id.as_str(), id.to_string()), ("acme", "acme".to_owned()));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(Arc<str>);

impl Serialize for AccountId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl AccountId {
    /// An account label.
    pub fn new(label: impl AsRef<str>) -> Self {
        Self(Arc::from(label.as_ref()))
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for AccountId {
    fn from(label: &str) -> Self {
        Self::new(label)
    }
}

impl From<String> for AccountId {
    fn from(label: String) -> Self {
        Self::new(label)
    }
}

/// Which of an account's keys verified a request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySlot {
    /// The account's current key.
    #[default]
    Current,
    /// The key being rotated in (any key after the first).
    Next,
}

impl KeySlot {
    /// The slot of the key at `index` among an account's keys: the first is current,
    /// any later one next.
    pub fn of_index(index: usize) -> Self {
        if index == 0 { Self::Current } else { Self::Next }
    }

    /// `current` or `next`, as stored and in metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Next => "next",
        }
    }

    /// The slot named by [`as_str`](Self::as_str).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "current" => Some(Self::Current),
            "next" => Some(Self::Next),
            _ => None,
        }
    }
}

/// Who sent a verified request: its account (`None`: the provider's unnamed, default
/// account) and the key that matched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// The account, when it has a label.
    pub account: Option<AccountId>,
    /// Which of the account's keys matched.
    pub key: KeySlot,
}

impl Verified {
    /// Verified with `account`'s key in `key`.
    pub fn new(account: Option<AccountId>, key: KeySlot) -> Self {
        Self { account, key }
    }
}

/// One account of a provider: its label, its keys (`K`: a [`Secret`],
/// or a provider's public key), and the names the provider calls it by in requests.
#[derive(Clone)]
pub struct Account<K> {
    id: Option<AccountId>,
    keys: Vec<K>,
    /// Whether the first key is the next one (the current key was removed first).
    next_only: bool,
    names: Vec<String>,
}

impl<K> Account<K> {
    /// An account labelled `id`, verified with `key`.
    pub fn new(id: impl Into<AccountId>, key: impl Into<K>) -> Self {
        Self { id: Some(id.into()), keys: vec![key.into()], next_only: false, names: Vec::new() }
    }

    /// The provider's unnamed account (what a provider configured without accounts
    /// has): its events carry no account label.
    pub fn unnamed(keys: Vec<K>) -> Self {
        Self { id: None, keys, next_only: false, names: Vec::new() }
    }

    /// An account with any number of keys (the first current, the others next); the
    /// label is optional.
    pub fn with_keys(id: Option<AccountId>, keys: Vec<K>) -> Self {
        Self { id, keys, next_only: false, names: Vec::new() }
    }

    /// Adds the key being rotated in: both verify until the old one is removed.
    pub fn next_key(mut self, key: impl Into<K>) -> Self {
        self.keys.push(key.into());
        self
    }

    /// Marks its keys as the next ones: an account whose current key was removed before
    /// its next one became current (`_NEXT` set alone). Its matches are recorded as
    /// [`KeySlot::Next`], so the rotation's metric stays right.
    pub fn only_next_keys(mut self) -> Self {
        self.next_only = true;
        self
    }

    /// The slot of its key at `index`.
    pub fn slot(&self, index: usize) -> KeySlot {
        KeySlot::of_index(index + usize::from(self.next_only))
    }

    /// Adds a name the provider calls this account by in its requests (a Twilio
    /// `AccountSid`, a WhatsApp Business Account or phone number id, a Vonage API key).
    /// A request that names it is verified with this account's keys only.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.names.push(name.into());
        self
    }

    /// The label.
    pub fn id(&self) -> Option<&AccountId> {
        self.id.as_ref()
    }

    /// The keys, current first.
    pub fn keys(&self) -> &[K] {
        &self.keys
    }

    /// The names the provider calls it by.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The same account with only the keys `keep` accepts (a provider dropping keys it
    /// cannot verify with, such as empty HMAC keys).
    pub fn retain_keys(mut self, keep: impl FnMut(&K) -> bool) -> Self {
        self.keys.retain(keep);
        self
    }

    /// The same account with its keys converted (a provider parsing key text into keys
    /// it can verify with).
    pub fn map_keys<L, E>(self, convert: impl FnMut(K) -> Result<L, E>) -> Result<Account<L>, E> {
        let keys = self.keys.into_iter().map(convert).collect::<Result<_, E>>()?;
        Ok(Account { id: self.id, keys, next_only: self.next_only, names: self.names })
    }
}

impl<K> fmt::Debug for Account<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys are never printed, whatever their type.
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("keys", &self.keys.len())
            .field("names", &self.names)
            .finish()
    }
}

/// A provider's accounts; see the [module docs](self) for which keys verify a request.
#[derive(Clone)]
pub struct Accounts<K> {
    accounts: Arc<[Account<K>]>,
}

impl<K> fmt::Debug for Accounts<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.accounts.iter()).finish()
    }
}

impl<K> Default for Accounts<K> {
    fn default() -> Self {
        Self { accounts: Arc::new([]) }
    }
}

/// A key an account verifies with. A key that would verify what anyone can forge (an
/// empty HMAC secret) is not usable and is left out, with a warning.
pub trait Key {
    /// Whether it can verify a request safely.
    fn usable(&self) -> bool {
        true
    }
}

impl Key for Secret {
    fn usable(&self) -> bool {
        !self.expose().is_empty()
    }
}

impl Key for &str {
    fn usable(&self) -> bool {
        !self.is_empty()
    }
}

impl<K: Key> Accounts<K> {
    /// The accounts, in the order their keys are tried. Unusable keys (empty secrets) are
    /// left out, and then accounts with no key.
    ///
    /// ```
    /// use callhook::account::{Account, Accounts};
    /// use callhook::verify::Secret;
    /// let accounts: Accounts<Secret> = Accounts::new(vec![Account::new("acme", ""), Account::new("b", "k")]);
    /// assert_eq!(accounts.iter().count(), 1, "an empty secret would accept forgeries");
    /// ```
    pub fn new(accounts: Vec<Account<K>>) -> Self {
        let accounts = accounts.into_iter().filter_map(|account| {
            let before = account.keys.len();
            let account = account.retain_keys(Key::usable);
            if account.keys.len() < before {
                tracing::warn!(account = ?account.id, "ignoring an empty key: it would accept forgeries");
            }
            (!account.keys.is_empty()).then_some(account)
        });
        Self { accounts: accounts.collect() }
    }
}

impl<K> Accounts<K> {
    /// Whether there is no account (every request is then refused as not configured).
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The accounts.
    pub fn iter(&self) -> impl Iterator<Item = &Account<K>> {
        self.accounts.iter()
    }

    /// Whether any account has a name: only then does a provider need to read which
    /// account a request names (which can cost a look at the body).
    pub fn any_named(&self) -> bool {
        self.accounts.iter().any(|account| !account.names.is_empty())
    }

    /// Verifies a request that names the accounts in `claims` (empty: it names none):
    /// `check` is the provider's own check of a set of keys, answering the index of the
    /// key that matched. A mismatch (`SignatureMismatch`, `TokenMismatch`) moves on to the
    /// next candidate account; any other error (a malformed header, a stale timestamp)
    /// is the request's, and ends verification at once.
    pub fn verify(
        &self,
        claims: &[&str],
        check: impl Fn(&[K]) -> Result<usize, VerifyError>,
    ) -> Result<Verified, VerifyError> {
        let named = |account: &Account<K>| claims.iter().any(|claim| account.names.iter().any(|name| name == claim));
        let claimed: Vec<&Account<K>> = self.accounts.iter().filter(|account| named(account)).collect();
        if let [first, rest @ ..] = claimed.as_slice()
            && rest.iter().any(|other| other.id != first.id)
        {
            return Err(VerifyError::AccountMismatch);
        }
        let candidates: Vec<&Account<K>> = match (claims.is_empty(), claimed.is_empty()) {
            (false, false) => claimed,
            (true, _) => self.accounts.iter().collect(),
            (false, true) => self.accounts.iter().filter(|account| account.names.is_empty()).collect(),
        };
        if candidates.is_empty() {
            return Err(VerifyError::UnknownAccount);
        }
        let mut mismatch = VerifyError::SignatureMismatch;
        for account in candidates {
            match check(&account.keys) {
                Ok(index) => return Ok(Verified::new(account.id.clone(), account.slot(index))),
                Err(error @ (VerifyError::SignatureMismatch | VerifyError::TokenMismatch)) => mismatch = error,
                Err(error) => return Err(error),
            }
        }
        Err(mismatch)
    }
}

/// Collects a provider's accounts in its builder: keys given without an account (the
/// provider's unnamed account, as before accounts existed) and named accounts.
#[derive(Clone, Debug)]
pub struct AccountsBuilder<K> {
    unnamed: Vec<K>,
    named: Vec<Account<K>>,
}

impl<K> Default for AccountsBuilder<K> {
    fn default() -> Self {
        Self { unnamed: Vec::new(), named: Vec::new() }
    }
}

impl<K> AccountsBuilder<K> {
    /// Adds a key of the unnamed account (the first is current, later ones next).
    pub fn key(&mut self, key: K) {
        self.unnamed.push(key);
    }

    /// Adds an account.
    pub fn account(&mut self, account: Account<K>) {
        self.named.push(account);
    }

    /// The accounts: the labelled ones in the order added, then the unnamed one (which,
    /// being named by nothing, also takes requests that name an account not configured).
    pub fn build(self) -> Accounts<K>
    where
        K: Key,
    {
        let mut accounts = self.named;
        if !self.unnamed.is_empty() {
            accounts.push(Account::unnamed(self.unnamed));
        }
        Accounts::new(accounts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys are plain strings here; a key "matches" when it equals the presented one.
    fn presented(signature: &'static str) -> impl Fn(&[&'static str]) -> Result<usize, VerifyError> {
        move |keys| keys.iter().position(|key| *key == signature).ok_or(VerifyError::SignatureMismatch)
    }

    fn accounts() -> Accounts<&'static str> {
        Accounts::new(vec![
            Account::new("a", "ka").next_key("ka2").named("A"),
            Account::new("b", "kb").named("B").named("B-phone"),
            Account::unnamed(vec!["kd"]),
        ])
    }

    #[test]
    fn a_named_account_is_verified_with_its_own_keys_only() {
        let accounts = accounts();
        let a = accounts.verify(&["A"], presented("ka")).unwrap();
        assert_eq!((a.account.unwrap().as_str(), a.key), ("a", KeySlot::Current));
        assert_eq!(accounts.verify(&["A"], presented("ka2")).unwrap().key, KeySlot::Next);
        assert_eq!(accounts.verify(&["A"], presented("kb")), Err(VerifyError::SignatureMismatch));
        assert_eq!(
            accounts.verify(&["A"], presented("kd")),
            Err(VerifyError::SignatureMismatch),
            "nor the catch-all's"
        );
        assert_eq!(accounts.verify(&["B-phone", "B"], presented("kb")).unwrap().account, Some("b".into()));
    }

    #[test]
    fn an_unknown_name_goes_to_the_catch_all_accounts_and_none_names_nothing() {
        let accounts = accounts();
        let other = accounts.verify(&["Z"], presented("kd")).unwrap();
        assert_eq!(other.account, None, "the unnamed account");
        assert_eq!(accounts.verify(&["Z"], presented("ka")), Err(VerifyError::SignatureMismatch));
        let named_only = Accounts::new(vec![Account::new("a", "ka").named("A")]);
        assert_eq!(named_only.verify(&["Z"], presented("ka")), Err(VerifyError::UnknownAccount));
    }

    #[test]
    fn a_request_naming_nothing_tries_every_account_in_order() {
        let accounts = accounts();
        assert_eq!(accounts.verify(&[], presented("kb")).unwrap().account, Some("b".into()));
        assert_eq!(accounts.verify(&[], presented("kd")).unwrap().account, None);
        assert_eq!(accounts.verify(&[], presented("nope")), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn two_accounts_named_by_one_request_are_refused() {
        assert_eq!(accounts().verify(&["A", "B"], presented("ka")), Err(VerifyError::AccountMismatch));
    }

    #[test]
    fn a_request_error_ends_verification_and_mismatches_keep_their_kind() {
        let stale = |_: &[&str]| Err(VerifyError::TimestampOutsideTolerance { skew_secs: -600 });
        assert_eq!(accounts().verify(&[], stale), Err(VerifyError::TimestampOutsideTolerance { skew_secs: -600 }));
        let token = |_: &[&str]| Err(VerifyError::TokenMismatch);
        assert_eq!(accounts().verify(&[], token), Err(VerifyError::TokenMismatch));
        assert_eq!(Accounts::<&str>::default().verify(&[], presented("k")), Err(VerifyError::UnknownAccount));
    }

    #[test]
    fn accounts_without_keys_are_left_out_and_keys_never_print() {
        let accounts = Accounts::new(vec![Account::with_keys(Some("empty".into()), Vec::<&str>::new())]);
        assert!(accounts.is_empty());
        let shown = format!("{:?}", Account::<&str>::new("a", "hunter2"));
        assert!(!shown.contains("hunter2") && shown.contains("\"a\""), "{shown}");
    }
}
