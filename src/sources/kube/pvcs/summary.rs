//! The kubelet's stats summary, read for the claims' volumes only: what one node's body says
//! about each claim's used space ([`parse_summary_text`]), leniently (a malformed volume entry
//! is that volume's unknown, never the node's). The poller that fetches the bodies is
//! [`super::usage`].

use crate::domain::pvcs::UsedSpace;

/// A figure as ondeck reads it from the API: a whole number of bytes, or a float within range
/// (truncated); anything else (negative, too large, not a number) is `None`.
fn u64_of_f64(f: f64) -> Option<u64> {
    (f.is_finite() && f >= 0.0 && f <= u64::MAX as f64).then_some(f as u64)
}

// The kubelet stats summary, read for the claims' volumes only (`pods[].volume[]` with a
// `pvcRef`): everything else (containers, CPU, memory, network, the node's own figures, most of
// a real kubelet's answer) is skipped while parsing, and what is read is borrowed from the
// body, never built into a JSON tree. The volumes go straight into the output as they are read
// (a seed holding the output), so nothing is collected per pod.
//
// Lenient as before: a `pods` that is not a list is no pods list; a pod, a volume list or a
// volume that is not what it should be is skipped; a repeated key counts once, its last value
// (as a JSON object would keep it). What lies inside a `volume` list is parsed in full even
// where it is not kept ([`Checked`]), so a body is as readable or unreadable as before (a
// number out of range there fails the body, as it did when volumes were JSON values).

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Visitor methods for every JSON scalar, each giving `$v` (`but_strings`: strings aside).
macro_rules! scalars_give {
    ($v:expr) => {
        scalars_give!($v, but_strings);
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($v)
        }
    };
    ($v:expr, but_strings) => {
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($v)
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($v)
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($v)
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($v)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok($v)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok($v)
        }
    };
}

/// Any JSON value, parsed in full (numbers and strings checked as a JSON value's would be) and
/// dropped: no allocation.
struct Checked;

impl<'de> Visitor<'de> for Checked {
    type Value = Checked;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    scalars_give!(Checked);
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Checked, D::Error> {
        d.deserialize_any(Checked)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Checked, A::Error> {
        while a.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Checked, A::Error> {
        while a.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Checked)
    }
}

impl<'de> serde::Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Checked)
    }
}

/// The object keys ondeck reads, matched without copying the key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Pods,
    Volume,
    PvcRef,
    Name,
    Namespace,
    UsedBytes,
    CapacityBytes,
    AvailableBytes,
    Other,
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<Key, E> {
                Ok(match k {
                    "pods" => Key::Pods,
                    "volume" => Key::Volume,
                    "pvcRef" => Key::PvcRef,
                    "name" => Key::Name,
                    "namespace" => Key::Namespace,
                    "usedBytes" => Key::UsedBytes,
                    "capacityBytes" => Key::CapacityBytes,
                    "availableBytes" => Key::AvailableBytes,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// A string, borrowed from the body when it has no escapes; `None` for any other value.
struct Text<'de>(Option<std::borrow::Cow<'de, str>>);

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            scalars_give!(Text(None), but_strings);
            fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Some(std::borrow::Cow::Borrowed(s))))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Some(std::borrow::Cow::Owned(s.to_owned()))))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Text<'de>, E> {
                Ok(Text(Some(std::borrow::Cow::Owned(s))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, a: A) -> Result<Text<'de>, A::Error> {
                Checked.visit_seq(a).map(|_| Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<Text<'de>, A::Error> {
                Checked.visit_map(a).map(|_| Text(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A byte count: a whole number, or a float within range (truncated); `None` for anything else
/// (a negative or out-of-range number, a string...).
struct Bytes(Option<u64>);

impl<'de> serde::Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(FigureVisitor)? {
            Figure::Bytes(b) => Ok(Bytes(Some(b))),
            Figure::Odd(_) => Ok(Bytes(None)),
        }
    }
}

/// `usedBytes` as read: a byte count, or the odd value itself (to quote it, as a JSON value
/// prints).
enum Figure {
    Bytes(u64),
    Odd(serde_json::Value),
}

struct FigureVisitor;

impl<'de> Visitor<'de> for FigureVisitor {
    type Value = Figure;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a number of bytes")
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Figure, E> {
        Ok(Figure::Bytes(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Figure, E> {
        Ok(u64::try_from(v).map_or(Figure::Odd(v.into()), Figure::Bytes))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Figure, E> {
        Ok(u64_of_f64(v).map_or(Figure::Odd(v.into()), Figure::Bytes))
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Figure, E> {
        Ok(Figure::Odd(v.into()))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Figure, E> {
        Ok(Figure::Odd(v.into()))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Figure, E> {
        Ok(Figure::Odd(serde_json::Value::Null))
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Figure, E> {
        Ok(Figure::Odd(serde_json::Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, a: A) -> Result<Figure, A::Error> {
        let v = serde::Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(a))?;
        Ok(Figure::Odd(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<Figure, A::Error> {
        let v = serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(a))?;
        Ok(Figure::Odd(v))
    }
}

impl<'de> serde::Deserialize<'de> for Figure {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FigureVisitor)
    }
}

/// A volume's `pvcRef` when it is an object: its name and namespace when they are strings.
#[derive(Default)]
struct LeanRef<'de> {
    name: Option<std::borrow::Cow<'de, str>>,
    namespace: Option<std::borrow::Cow<'de, str>>,
}

/// `Some` for an object, `None` for any other value.
struct MaybeRef<'de>(Option<LeanRef<'de>>);

impl<'de> serde::Deserialize<'de> for MaybeRef<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeRef<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a claim reference")
            }
            scalars_give!(MaybeRef(None));
            fn visit_seq<A: SeqAccess<'de>>(self, a: A) -> Result<MaybeRef<'de>, A::Error> {
                Checked.visit_seq(a).map(|_| MaybeRef(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<MaybeRef<'de>, A::Error> {
                let mut r = LeanRef::default();
                while let Some(k) = a.next_key::<Key>()? {
                    match k {
                        Key::Name => r.name = a.next_value::<Text>()?.0,
                        Key::Namespace => r.namespace = a.next_value::<Text>()?.0,
                        _ => {
                            a.next_value::<Checked>()?;
                        }
                    }
                }
                Ok(MaybeRef(Some(r)))
            }
        }
        d.deserialize_any(V)
    }
}

/// One entry of a pod's `volume` list, as far as ondeck reads it (`None`: not an object).
#[derive(Default)]
struct LeanVolume<'de> {
    pvc_ref: Option<LeanRef<'de>>,
    /// `Some` when the entry has a `usedBytes`, whatever its value.
    used: Option<Figure>,
    capacity: Option<u64>,
    available: Option<u64>,
}

struct MaybeVolume<'de>(Option<LeanVolume<'de>>);

impl<'de> serde::Deserialize<'de> for MaybeVolume<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeVolume<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a volume's stats")
            }
            scalars_give!(MaybeVolume(None));
            fn visit_seq<A: SeqAccess<'de>>(self, a: A) -> Result<MaybeVolume<'de>, A::Error> {
                Checked.visit_seq(a).map(|_| MaybeVolume(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<MaybeVolume<'de>, A::Error> {
                let mut v = LeanVolume::default();
                while let Some(k) = a.next_key::<Key>()? {
                    match k {
                        Key::PvcRef => v.pvc_ref = a.next_value::<MaybeRef>()?.0,
                        Key::UsedBytes => v.used = Some(a.next_value::<Figure>()?),
                        Key::CapacityBytes => v.capacity = a.next_value::<Bytes>()?.0,
                        Key::AvailableBytes => v.available = a.next_value::<Bytes>()?.0,
                        _ => {
                            a.next_value::<Checked>()?;
                        }
                    }
                }
                Ok(MaybeVolume(Some(v)))
            }
        }
        d.deserialize_any(V)
    }
}

/// The summary document: `{"pods": [...], ...}`, its claims' volumes appended to `out`.
/// `true` when it has a `pods` list (the last `pods` counts).
struct SummarySeed<'o>(&'o mut ClaimUsage);

impl<'de> DeserializeSeed<'de> for SummarySeed<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SummarySeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a kubelet stats summary")
    }
    scalars_give!(false);
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<bool, A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<bool, A::Error> {
        let mut has_pods = false;
        while let Some(k) = a.next_key::<Key>()? {
            if k == Key::Pods {
                // A repeated `pods`: the last one is the document's.
                self.0.clear();
                has_pods = a.next_value_seed(PodsSeed(&mut *self.0))?;
            } else {
                a.next_value::<IgnoredAny>()?;
            }
        }
        Ok(has_pods)
    }
}

/// `pods`: a list (`true`), each pod's claims' volumes appended; anything else is no list.
struct PodsSeed<'o>(&'o mut ClaimUsage);

impl<'de> DeserializeSeed<'de> for PodsSeed<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PodsSeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of pods")
    }
    scalars_give!(false);
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<bool, A::Error> {
        while a.next_element_seed(PodSeed(&mut *self.0))?.is_some() {}
        Ok(true)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<bool, A::Error> {
        while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

/// One pod of the summary: its `volume` list's claims appended, nothing else read.
struct PodSeed<'o>(&'o mut ClaimUsage);

impl<'de> DeserializeSeed<'de> for PodSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PodSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a pod's stats")
    }
    scalars_give!(());
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let start = self.0.len();
        while let Some(k) = a.next_key::<Key>()? {
            if k == Key::Volume {
                // Not a list: no volumes (skipped, never an error); a repeated `volume` list
                // replaces the one before it.
                a.next_value_seed(VolumesSeed {
                    out: &mut *self.0,
                    start,
                })?;
            } else {
                a.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// A pod's `volume` list: each entry's claim usage appended to `out` (from `start`, this pod's
/// first entry); any other value leaves `out` as it is.
struct VolumesSeed<'o> {
    out: &'o mut ClaimUsage,
    start: usize,
}

impl<'de> DeserializeSeed<'de> for VolumesSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for VolumesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of volumes")
    }
    scalars_give!(());
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        self.out.truncate(self.start);
        while let Some(MaybeVolume(v)) = a.next_element()? {
            if let Some(entry) = v.and_then(claim_usage) {
                self.out.push(entry);
            }
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<(), A::Error> {
        Checked.visit_map(a).map(|_| ())
    }
}

/// Used space per claim, `(namespace, claim)`, as one kubelet reported it.
pub type ClaimUsage = Vec<((String, String), UsedSpace)>;

/// The claims' volumes in one kubelet stats summary (`pods[].volume[]` with a `pvcRef`).
/// Lenient: a malformed volume entry is skipped, never a panic; `None` when the document has no
/// `pods` list at all (not a stats summary: the node's figures are unknown).
pub fn parse_summary(v: &serde_json::Value) -> Option<ClaimUsage> {
    let mut out = ClaimUsage::new();
    let has_pods = SummarySeed(&mut out).deserialize(v).ok()?;
    has_pods.then_some(out)
}

/// [`parse_summary`] straight from the response text, without building the document's JSON
/// tree (a real kubelet's summary is mostly container and network figures ondeck never reads).
/// `Err`: not JSON at all.
pub fn parse_summary_text(text: &str) -> Result<Option<ClaimUsage>, serde_json::Error> {
    let mut out = ClaimUsage::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let has_pods = SummarySeed(&mut out).deserialize(&mut de)?;
    de.end()?;
    Ok(has_pods.then_some(out))
}

/// What one volume entry says of its claim: `None` when it names no claim (no `pvcRef` with a
/// string name and namespace) or has no `usedBytes`.
fn claim_usage(vol: LeanVolume<'_>) -> Option<((String, String), UsedSpace)> {
    let r = vol.pvc_ref?;
    let (name, ns) = (r.name?, r.namespace?);
    let raw = vol.used?;
    let key = (ns.into_owned(), name.into_owned());
    // Numbers from the API are range-checked: a negative, fractional-overflowing or
    // non-numeric figure, or more used than the volume holds (over 100%), is unknown
    // and says so, never a healthy value.
    let used = match raw {
        Figure::Bytes(b) => b,
        Figure::Odd(v) => {
            let raw = v.to_string();
            let raw = clip_bytes(&raw, 40);
            return Some((
                key,
                UsedSpace::unknown(crate::sanitize::line(&format!(
                    "the kubelet reported an invalid usedBytes ({raw})"
                ))),
            ));
        }
    };
    let capacity = vol.capacity;
    if let Some(c) = capacity
        && used > c
    {
        return Some((
            key,
            UsedSpace::unknown(format!(
                "the kubelet reported usedBytes {used} above capacityBytes {c}"
            )),
        ));
    }
    Some((
        key,
        UsedSpace::Known {
            used_bytes: used,
            capacity_bytes: capacity,
            available_bytes: vol.available.filter(|a| capacity.is_none_or(|c| *a <= c)),
        },
    ))
}

/// `s`'s first `max` bytes, fewer when that would cut a character in two.
fn clip_bytes(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parser as it was before it read volumes lean (JSON values per volume, owned keys):
    /// what the lean one must answer exactly, for any body.
    mod before {
        use crate::domain::pvcs::UsedSpace;

        fn as_u64(v: &serde_json::Value) -> Option<u64> {
            v.as_u64().or_else(|| {
                v.as_f64()
                    .filter(|f| f.is_finite() && *f >= 0.0 && *f <= u64::MAX as f64)
                    .map(|f| f as u64)
            })
        }

        /// One kubelet stats summary as ondeck reads it: only `pods[].volume[]` is kept; everything
        /// else (containers, CPU, memory, network, the node's own figures, most of a real kubelet's
        /// answer) is skipped while parsing, never built into a JSON tree. Lenient like the rest: a
        /// `pods` that is not a list is no pods list; a pod or a volume list that is not what it should
        /// be is skipped.
        #[derive(Default)]
        struct LeanSummary {
            /// `None`: no `pods` list at all.
            pods: Option<Vec<Vec<serde_json::Value>>>,
        }

        /// Accepts any JSON value: `visit_seq` / `visit_map` hand over to the caller's logic, every
        /// other kind is "not what we want" (`T::default()`).
        struct Lenient<T>(std::marker::PhantomData<T>);

        macro_rules! lenient_scalars {
            () => {
                fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
                    Ok(Default::default())
                }
                fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
                    Ok(Default::default())
                }
                fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
                    Ok(Default::default())
                }
                fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
                    Ok(Default::default())
                }
                fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
                    Ok(Default::default())
                }
                fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                    Ok(Default::default())
                }
                fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                    Ok(Default::default())
                }
            };
        }

        /// The summary document: `{"pods": [...], ...}`.
        impl<'de> serde::de::Visitor<'de> for Lenient<LeanSummary> {
            type Value = LeanSummary;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a kubelet stats summary")
            }
            lenient_scalars!();
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<LeanSummary, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(LeanSummary::default())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<LeanSummary, A::Error> {
                let mut out = LeanSummary::default();
                while let Some(k) = a.next_key::<std::borrow::Cow<'de, str>>()? {
                    if k == "pods" {
                        out.pods = a.next_value::<LeanPods>()?.0;
                    } else {
                        a.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(out)
            }
        }

        impl<'de> serde::Deserialize<'de> for LeanSummary {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(Lenient::<LeanSummary>(std::marker::PhantomData))
            }
        }

        /// `pods`: a list (of pods, each read as its volume list), else `None`.
        #[derive(Default)]
        struct LeanPods(Option<Vec<Vec<serde_json::Value>>>);

        impl<'de> serde::de::Visitor<'de> for Lenient<LeanPods> {
            type Value = LeanPods;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of pods")
            }
            lenient_scalars!();
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<LeanPods, A::Error> {
                let mut pods = Vec::new();
                while let Some(p) = a.next_element::<LeanPod>()? {
                    if !p.0.is_empty() {
                        pods.push(p.0);
                    }
                }
                Ok(LeanPods(Some(pods)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<LeanPods, A::Error> {
                while a
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(LeanPods(None))
            }
        }

        impl<'de> serde::Deserialize<'de> for LeanPods {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(Lenient::<LeanPods>(std::marker::PhantomData))
            }
        }

        /// One pod of the summary: its `volume` list (each entry a small JSON value), nothing else.
        #[derive(Default)]
        struct LeanPod(Vec<serde_json::Value>);

        impl<'de> serde::de::Visitor<'de> for Lenient<LeanPod> {
            type Value = LeanPod;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a pod's stats")
            }
            lenient_scalars!();
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<LeanPod, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(LeanPod::default())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<LeanPod, A::Error> {
                let mut out = LeanPod::default();
                while let Some(k) = a.next_key::<std::borrow::Cow<'de, str>>()? {
                    if k == "volume" {
                        // Not a list: no volumes (as before: skipped, never an error).
                        if let serde_json::Value::Array(v) = a.next_value::<serde_json::Value>()? {
                            out.0 = v;
                        }
                    } else {
                        a.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(out)
            }
        }

        impl<'de> serde::Deserialize<'de> for LeanPod {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(Lenient::<LeanPod>(std::marker::PhantomData))
            }
        }

        /// Used space per claim, `(namespace, claim)`, as one kubelet reported it.
        type ClaimUsage = Vec<((String, String), UsedSpace)>;

        /// The claims' volumes in one kubelet stats summary (`pods[].volume[]` with a `pvcRef`).
        /// Lenient: a malformed volume entry is skipped, never a panic; `None` when the document has no
        /// `pods` list at all (not a stats summary: the node's figures are unknown).
        pub(super) fn parse_summary(v: &serde_json::Value) -> Option<ClaimUsage> {
            let lean = <LeanSummary as serde::Deserialize>::deserialize(v).ok()?;
            Some(summary_volumes(lean.pods?.iter().flatten()))
        }

        /// [`parse_summary`] straight from the response text, without building the document's JSON
        /// tree (a real kubelet's summary is mostly container and network figures ondeck never reads).
        /// `Err`: not JSON at all.
        pub(super) fn parse_summary_text(
            text: &str,
        ) -> Result<Option<ClaimUsage>, serde_json::Error> {
            let lean: LeanSummary = serde_json::from_str(text)?;
            Ok(lean.pods.map(|p| summary_volumes(p.iter().flatten())))
        }

        fn summary_volumes<'a>(volumes: impl Iterator<Item = &'a serde_json::Value>) -> ClaimUsage {
            let mut out = Vec::new();
            for vol in volumes {
                let Some(r) = vol.get("pvcRef") else {
                    continue;
                };
                let (Some(name), Some(ns)) = (
                    r.get("name").and_then(|x| x.as_str()),
                    r.get("namespace").and_then(|x| x.as_str()),
                ) else {
                    continue;
                };
                let key = (ns.to_string(), name.to_string());
                let Some(raw) = vol.get("usedBytes") else {
                    continue;
                };
                // Numbers from the API are range-checked: a negative, fractional-overflowing or
                // non-numeric figure, or more used than the volume holds (over 100%), is unknown
                // and says so, never a healthy value.
                let odd = |what: &str, v: &serde_json::Value| {
                    let mut raw = v.to_string();
                    raw.truncate(40);
                    UsedSpace::unknown(crate::sanitize::line(&format!(
                        "the kubelet reported an invalid {what} ({raw})"
                    )))
                };
                let Some(used) = as_u64(raw) else {
                    out.push((key, odd("usedBytes", raw)));
                    continue;
                };
                let capacity = vol.get("capacityBytes").and_then(as_u64);
                if let Some(c) = capacity
                    && used > c
                {
                    out.push((
                        key,
                        UsedSpace::unknown(format!(
                            "the kubelet reported usedBytes {used} above capacityBytes {c}"
                        )),
                    ));
                    continue;
                }
                out.push((
                    key,
                    UsedSpace::Known {
                        used_bytes: used,
                        capacity_bytes: capacity,
                        available_bytes: vol
                            .get("availableBytes")
                            .and_then(as_u64)
                            .filter(|a| capacity.is_none_or(|c| *a <= c)),
                    },
                ));
            }
            out
        }
    }

    /// A random piece of a stats summary, odd more often than a kubelet would be: repeated
    /// keys, values of the wrong kind, numbers at and past the edges, escaped strings.
    struct Gen(fastrand::Rng);

    impl Gen {
        fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
            of[self.0.usize(..of.len())]
        }

        fn scalar(&mut self) -> String {
            if self.0.u16(..300) == 0 {
                // Out of range for a JSON number: the body is unreadable.
                return "1e400".into();
            }
            self.pick(&[
                "0",
                "7",
                "2048",
                "-1",
                "-0",
                "-0.0",
                "1.5",
                "1e3",
                "1e300",
                "-1e300",
                "18446744073709551615",
                "18446744073709551616",
                "1e19",
                "true",
                "false",
                "null",
                "\"lots\"",
                "\"\\u001b[31m7\"",
                "\"a\\u0041\"",
                "\"c1\"",
                "\"n\"",
                "\"0123456789012345678901234567890123456789xyz\"",
                "[]",
                "{}",
                "[1, {\"a\": 2}]",
                "{\"usedBytes\": 3}",
                "\"\\u00e9t\\u00e9\"",
            ])
            .to_string()
        }

        fn object(
            &mut self,
            keys: &[&str],
            value: &mut dyn FnMut(&mut Gen, &str) -> String,
        ) -> String {
            let n = self.0.usize(0..6);
            let fields: Vec<String> = (0..n)
                .map(|_| {
                    let k = self.pick(keys);
                    format!("\"{k}\": {}", value(self, k))
                })
                .collect();
            format!("{{{}}}", fields.join(", "))
        }

        fn list(&mut self, item: &mut dyn FnMut(&mut Gen) -> String) -> String {
            let n = self.0.usize(0..5);
            let items: Vec<String> = (0..n).map(|_| item(self)).collect();
            format!("[{}]", items.join(", "))
        }

        /// Mostly what `make` builds, sometimes any other value.
        fn or_odd(&mut self, make: &mut dyn FnMut(&mut Gen) -> String) -> String {
            if self.0.u8(..10) == 0 {
                self.scalar()
            } else {
                make(self)
            }
        }

        fn pvc_ref(&mut self) -> String {
            self.or_odd(&mut |g| {
                g.object(
                    &["name", "namespace", "name", "namespace", "uid"],
                    &mut |g, _| {
                        if g.0.u8(..4) != 0 {
                            g.pick(&["\"c1\"", "\"c2\"", "\"ns\"", "\"x\\u0041\""])
                                .to_string()
                        } else {
                            g.scalar()
                        }
                    },
                )
            })
        }

        fn volume(&mut self) -> String {
            if self.0.bool() {
                // A claim's volume, its figures any value, sometimes with more keys.
                let more = self.volume();
                let more = more
                    .strip_prefix('{')
                    .filter(|m| m.len() > 1)
                    .map(|m| format!(", {m}"))
                    .unwrap_or_else(|| "}".into());
                let (name, ns) = (self.pick(&["c1", "c2"]), self.pick(&["a", "b"]));
                return format!(
                    "{{\"pvcRef\": {{\"name\": \"{name}\", \"namespace\": \"{ns}\"}}, \
                     \"usedBytes\": {}, \"capacityBytes\": {}{more}",
                    self.scalar(),
                    self.scalar()
                );
            }
            self.or_odd(&mut |g| {
                let keys = [
                    "pvcRef",
                    "usedBytes",
                    "capacityBytes",
                    "availableBytes",
                    "name",
                    "inodes",
                    "pvcRef",
                    "usedBytes",
                ];
                g.object(&keys, &mut |g, k| match k {
                    "pvcRef" => g.pvc_ref(),
                    _ => g.scalar(),
                })
            })
        }

        fn pod(&mut self) -> String {
            self.or_odd(&mut |g| {
                g.object(
                    &["volume", "volume", "podRef", "containers"],
                    &mut |g, k| match k {
                        "volume" => g.or_odd(&mut |g| g.list(&mut |g| g.volume())),
                        _ => g.scalar(),
                    },
                )
            })
        }

        fn summary(&mut self) -> String {
            self.or_odd(&mut |g| {
                g.object(&["pods", "pods", "node"], &mut |g, k| match k {
                    "pods" => g.or_odd(&mut |g| g.list(&mut |g| g.pod())),
                    _ => g.scalar(),
                })
            })
        }
    }

    #[test]
    fn the_lean_parser_reads_any_body_exactly_as_before() {
        let mut g = Gen(fastrand::Rng::with_seed(20261203));
        let (mut some, mut entries, mut errors) = (0, 0, 0);
        for i in 0..20_000 {
            let mut doc = g.summary();
            if i % 50 == 0 {
                // Cut short: not JSON.
                let cut = g.0.usize(..=doc.len());
                doc.truncate(if doc.is_char_boundary(cut) { cut } else { 0 });
            }
            let want = before::parse_summary_text(&doc);
            let got = parse_summary_text(&doc);
            match (&want, &got) {
                (Ok(w), Ok(g)) => assert_eq!(w, g, "{doc}"),
                (Err(_), Err(_)) => errors += 1,
                _ => panic!("{doc}: before {want:?}, now {got:?}"),
            }
            if let Ok(Some(w)) = &want {
                some += 1;
                entries += w.len();
            }
            // The tree path too (a document that is JSON).
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&doc) {
                assert_eq!(before::parse_summary(&v), parse_summary(&v), "{doc}");
            }
        }
        // The generator reaches what it should: summaries with claims, and unreadable bodies.
        assert!(
            some > 5_000 && entries > 2_000 && errors > 200,
            "{some} {entries} {errors}"
        );
    }

    #[test]
    fn an_odd_figure_is_quoted_whole_characters_only() {
        // 39 bytes, then a two-byte character across the 40-byte cut: no panic, cut before it.
        let doc = format!(
            r#"{{"pods": [{{"volume": [{{"pvcRef": {{"name": "c", "namespace": "n"}},
                "usedBytes": "{}\u00e9\u00e9"}}]}}]}}"#,
            "x".repeat(38)
        );
        let got = parse_summary_text(&doc).expect("JSON").expect("a summary");
        let want = format!(
            "the kubelet reported an invalid usedBytes (\"{})",
            "x".repeat(38)
        );
        assert_eq!(got[0].1, UsedSpace::unknown(want));
    }
}
