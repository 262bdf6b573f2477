//! [`KeyText`]: the shared text of alert keys (rule ids and subjects).
//!
//! An alert's key is held several times (the book's map, the alert, the ranking, its group,
//! every transition), so its strings are one `Arc<str>` each: cloning a key never allocates,
//! and every copy points at the allocation of the condition that entered the book. Rule ids
//! are a few dozen distinct values: [`KeyText::rule`] shares one allocation per id across
//! every condition of every evaluation.
//!
//! Unlike [`crate::text::Clean`] it is not sanitized: it holds exactly the text it was built
//! from, so keys, hook variables, Alertmanager labels and `check` output read as before.
//! Compares, orders and hashes by content, exactly like `String`; derefs to `str`, compares
//! with `&str` and `String`, formats and serializes as a plain string.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

/// Shared, immutable key text. See the module doc.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyText(Arc<str>);

impl KeyText {
    /// The shared form of rule id `id`: one allocation per distinct id for the whole process
    /// (rule ids are the built-in and configured rule names, a small fixed set).
    pub fn rule(id: &str) -> KeyText {
        static RULES: OnceLock<Mutex<HashSet<Arc<str>>>> = OnceLock::new();
        let mut set = RULES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(shared) = set.get(id) {
            return KeyText(shared.clone());
        }
        let shared: Arc<str> = Arc::from(id);
        set.insert(shared.clone());
        KeyText(shared)
    }

    /// The empty text (shared: building it does not allocate).
    pub fn empty() -> KeyText {
        static EMPTY: OnceLock<KeyText> = OnceLock::new();
        EMPTY.get_or_init(|| KeyText(Arc::from(""))).clone()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Both share one allocation.
    pub fn ptr_eq(a: &KeyText, b: &KeyText) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl Default for KeyText {
    fn default() -> Self {
        KeyText::empty()
    }
}

impl std::ops::Deref for KeyText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for KeyText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for KeyText {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for KeyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl serde::Serialize for KeyText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl From<&str> for KeyText {
    fn from(s: &str) -> KeyText {
        KeyText(Arc::from(s))
    }
}

impl From<&String> for KeyText {
    fn from(s: &String) -> KeyText {
        KeyText(Arc::from(s.as_str()))
    }
}

impl From<String> for KeyText {
    fn from(s: String) -> KeyText {
        KeyText(Arc::from(s))
    }
}

impl From<Arc<str>> for KeyText {
    fn from(s: Arc<str>) -> KeyText {
        KeyText(s)
    }
}

impl From<KeyText> for String {
    fn from(k: KeyText) -> String {
        k.0.to_string()
    }
}

impl PartialEq<str> for KeyText {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for KeyText {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for KeyText {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<KeyText> for str {
    fn eq(&self, other: &KeyText) -> bool {
        self == &*other.0
    }
}

impl PartialEq<KeyText> for &str {
    fn eq(&self, other: &KeyText) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<KeyText> for String {
    fn eq(&self, other: &KeyText) -> bool {
        **self == *other.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_shared_and_text_reads_as_a_string() {
        let a = KeyText::rule("close_wait");
        let b = KeyText::rule(&String::from("close_wait"));
        assert!(KeyText::ptr_eq(&a, &b));
        assert!(!KeyText::ptr_eq(&a, &KeyText::rule("time_wait")));
        let c = a.clone();
        assert!(KeyText::ptr_eq(&a, &c), "a clone shares the allocation");
        // Content, not identity: as String compares, orders, hashes, formats and serializes.
        let own = KeyText::from("close_wait");
        assert!(!KeyText::ptr_eq(&a, &own));
        assert_eq!(a, own);
        assert_eq!(a, "close_wait");
        assert_eq!("close_wait", a);
        assert_eq!(a, String::from("close_wait"));
        let mut v = vec![KeyText::from("b"), KeyText::from("B"), KeyText::from("ab")];
        v.sort();
        let mut s = vec!["b", "B", "ab"];
        s.sort();
        assert_eq!(v, s);
        let h = |x: &dyn Fn(&mut std::collections::hash_map::DefaultHasher)| {
            use std::hash::Hasher;
            let mut st = std::collections::hash_map::DefaultHasher::new();
            x(&mut st);
            st.finish()
        };
        use std::hash::Hash;
        assert_eq!(
            h(&|st| a.hash(st)),
            h(&|st| String::from("close_wait").hash(st))
        );
        assert_eq!(
            format!("{a} {a:?} {a:>12}|"),
            "close_wait \"close_wait\"   close_wait|"
        );
        let json = serde_json::to_string(&KeyText::from("ns/p\"x")).expect("serializes");
        assert_eq!(json, "\"ns/p\\\"x\"");
        assert_eq!(KeyText::empty(), "");
        assert!(KeyText::ptr_eq(&KeyText::empty(), &KeyText::default()));
    }
}
