//! Where in the file a bad value sits: a validation error names its key path ([`Bad`]) and
//! is turned into the line and column of that key in the TOML text.

/// A validation failure: the message and the key path of the value it is about.
#[derive(Debug)]
pub(super) struct Bad {
    pub(super) key: Vec<Seg>,
    pub(super) message: String,
}

#[derive(Debug, Clone)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

impl Bad {
    fn path(key: &[&str]) -> Vec<Seg> {
        key.iter().map(|k| Seg::Key((*k).to_string())).collect()
    }

    pub(super) fn at(key: &[&str], message: String) -> Bad {
        Bad {
            key: Bad::path(key),
            message,
        }
    }

    pub(super) fn indexed(key: &[&str], i: usize) -> Bad {
        let mut key = Bad::path(key);
        key.push(Seg::Index(i));
        Bad {
            key,
            message: String::new(),
        }
    }

    pub(super) fn indexed2(key: &[&str], i: usize, j: usize) -> Bad {
        let mut b = Bad::indexed(key, i);
        b.key.push(Seg::Index(j));
        b
    }

    pub(super) fn with(mut self, message: String) -> Bad {
        self.message = message;
        self
    }
}

/// Line and column of the deepest part of `key` present in the TOML `text` (the value when
/// the whole path is there), or `None` when the file does not set it.
pub(super) fn locate(text: &str, key: &[Seg]) -> Option<(usize, usize)> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut span: Option<std::ops::Range<usize>> = None;
    let mut cur: Option<&toml::de::DeValue<'_>> = None;
    let mut table: Option<&toml::de::DeTable<'_>> = Some(doc.get_ref());
    for seg in key {
        match seg {
            Seg::Key(k) => {
                let nested = match cur {
                    Some(toml::de::DeValue::Table(t)) => Some(t),
                    _ => None,
                };
                let t = table.take().or(nested)?;
                let (_, v) = t
                    .iter()
                    .find(|(name, _)| name.get_ref().as_ref() == k.as_str())?;
                span = Some(v.span());
                cur = Some(v.get_ref());
            }
            Seg::Index(i) => {
                let Some(toml::de::DeValue::Array(a)) = cur else {
                    break;
                };
                let Some(v) = a.get(*i) else { break };
                span = Some(v.span());
                cur = Some(v.get_ref());
            }
        }
    }
    span.map(|s| line_col(text, s.start))
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
pub(super) fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before
        .get(line_start..)
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}
