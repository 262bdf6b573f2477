//! [`Clean`]: text from outside (pod and claim names, namespaces, reasons, messages, events),
//! sanitized once where it enters ondeck. Its only constructors run the sanitizer
//! ([`crate::sanitize::display_line`]: escape sequences removed whole, other controls and bidi
//! overrides shown as `?`, tabs as spaces), so the TUI, `check`'s JSON, text and Prometheus
//! output, the alert hook's environment and the audit log can use it as it is.
//!
//! Cheap to clone (a shared `Arc<str>`); derefs to `str`, compares with `&str` and `String`,
//! serializes as a plain string. An [`Interner`] shares repeated values (namespaces, nodes,
//! images, phases, reasons) between rows.

use std::borrow::{Borrow, Cow};
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

/// Sanitized outside text. See the module doc.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Clean(Arc<str>);

impl Clean {
    /// Sanitizes `s` (one scan when it is already clean).
    pub fn new(s: &str) -> Clean {
        Clean(Arc::from(crate::sanitize::display_line(s).as_ref()))
    }

    /// An object's name or namespace: sanitized, and when sanitizing changed it, followed by
    /// `~` and a short stable hash of the raw bytes, so two objects whose names clean up alike
    /// (`api\x07x`, `api\x08x`) stay two rows, two alerts and two Prometheus series everywhere.
    pub fn identifier(s: &str) -> Clean {
        match crate::sanitize::display_line(s) {
            Cow::Borrowed(_) => Clean(Arc::from(s)),
            Cow::Owned(clean) => {
                // FNV-1a: stable across runs and builds, unlike std's hasher.
                let h = s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                });
                Clean(Arc::from(format!("{clean}~{:08x}", h >> 32)))
            }
        }
    }

    /// Sanitizes `s`, keeping its allocation when it is already clean.
    pub fn from_string(s: String) -> Clean {
        match crate::sanitize::display_line(&s) {
            Cow::Borrowed(_) => Clean(Arc::from(s)),
            Cow::Owned(o) => Clean(Arc::from(o)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Both share one allocation (interned).
    pub fn ptr_eq(a: &Clean, b: &Clean) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl Default for Clean {
    fn default() -> Self {
        Clean(Arc::from(""))
    }
}

impl std::ops::Deref for Clean {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Clean {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Clean {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Clean {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Clean {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl serde::Serialize for Clean {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl From<&str> for Clean {
    fn from(s: &str) -> Clean {
        Clean::new(s)
    }
}

impl From<&String> for Clean {
    fn from(s: &String) -> Clean {
        Clean::new(s)
    }
}

impl From<String> for Clean {
    fn from(s: String) -> Clean {
        Clean::from_string(s)
    }
}

impl From<Clean> for String {
    fn from(c: Clean) -> String {
        c.0.to_string()
    }
}

impl PartialEq<str> for Clean {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Clean {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Clean {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Clean> for str {
    fn eq(&self, other: &Clean) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Clean> for &str {
    fn eq(&self, other: &Clean) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Clean> for String {
    fn eq(&self, other: &Clean) -> bool {
        **self == *other.0
    }
}

/// Shares repeated clean strings. Entries nobody else holds any more are dropped by
/// [`Interner::purge`] (after a relist), so it stays as large as what is in use.
#[derive(Debug, Default)]
pub struct Interner {
    set: HashSet<Clean>,
}

impl Interner {
    /// The clean, shared form of `s`.
    pub fn get(&mut self, s: &str) -> Clean {
        if let Some(c) = self.set.get(s) {
            return c.clone();
        }
        let c = Clean::new(s);
        if let Some(shared) = self.set.get(c.as_str()) {
            return shared.clone();
        }
        self.set.insert(c.clone());
        c
    }

    pub fn opt(&mut self, s: Option<&String>) -> Option<Clean> {
        s.map(|s| self.get(s))
    }

    /// Forgets strings nobody uses any more.
    pub fn purge(&mut self) {
        self.set.retain(|c| Arc::strong_count(&c.0) > 1);
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_is_clean_once_built() {
        let hostile = "pod\u{1b}]0;pwned\u{7}-a\tb\u{202e}c\nd";
        let c = Clean::new(hostile);
        assert_eq!(c, "pod-a    b?c?d");
        assert!(!c.chars().any(|ch| ch.is_control() || ch == '\u{FFFD}'));
        assert_eq!(Clean::from(hostile.to_string()), c);
        let json = serde_json::to_string(&c).expect("serializes");
        assert_eq!(json, "\"pod-a    b?c?d\"");
        // Already clean: as it was.
        assert_eq!(Clean::from("grafana-data"), "grafana-data");
        assert_eq!(format!("{}", Clean::from("ünï")), "ünï");
    }

    #[test]
    fn the_interner_shares_and_forgets() {
        let mut i = Interner::default();
        let a = i.get("team-001");
        let b = i.get("team-001");
        assert!(Clean::ptr_eq(&a, &b));
        // The dirty and the clean spelling of a value end up as one.
        let d = i.get("x\u{1b}[31my");
        let e = i.get("xy");
        assert!(Clean::ptr_eq(&d, &e));
        assert_eq!(i.len(), 2);
        drop((a, b));
        i.purge();
        assert_eq!(i.len(), 1, "team-001 is no longer used");
    }

    #[test]
    fn identifiers_that_clean_up_alike_stay_distinct() {
        let a = Clean::identifier("api\u{7}x");
        let b = Clean::identifier("api\u{8}x");
        assert_ne!(a, b);
        assert_eq!(a, Clean::identifier("api\u{7}x"), "stable");
        assert!(!a.as_str().contains('\u{7}'), "{}", a.as_str());
        assert_eq!(Clean::identifier("grafana-0").as_str(), "grafana-0");
    }
}
