//! Just enough of the Kubernetes protobuf encoding to read the SelfSubjectAccessReview that
//! kubectl's typed client sends (`kubectl auth can-i`); every other protobuf body gets a 415.

/// Reads protobuf fields: `(field number, wire type, payload)`; varints come back as bytes of
/// their value's little-endian encoding.
fn fields(mut buf: &[u8]) -> Option<Vec<(u64, u8, Vec<u8>)>> {
    fn varint(buf: &mut &[u8]) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (b, rest) = buf.split_first()?;
            *buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    let mut out = Vec::new();
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let (field, wire) = (key >> 3, (key & 7) as u8);
        match wire {
            0 => out.push((field, wire, varint(&mut buf)?.to_le_bytes().to_vec())),
            2 => {
                let len = usize::try_from(varint(&mut buf)?).ok()?;
                if len > buf.len() {
                    return None;
                }
                let (v, rest) = buf.split_at(len);
                out.push((field, wire, v.to_vec()));
                buf = rest;
            }
            1 => {
                if buf.len() < 8 {
                    return None;
                }
                buf = &buf[8..];
            }
            5 => {
                if buf.len() < 4 {
                    return None;
                }
                buf = &buf[4..];
            }
            _ => return None,
        }
    }
    Some(out)
}

fn field(buf: &[u8], n: u64) -> Option<Vec<u8>> {
    fields(buf)?
        .into_iter()
        .find(|(f, w, _)| *f == n && *w == 2)
        .map(|(_, _, v)| v)
}

/// Decodes a protobuf-encoded SelfSubjectAccessReview into its JSON form.
pub fn self_subject_access_review(body: &[u8]) -> Option<serde_json::Value> {
    let unknown = body.strip_prefix(b"k8s\0")?;
    let raw = field(unknown, 2)?;
    let spec = field(&raw, 2)?;
    let mut ra = serde_json::Map::new();
    if let Some(attrs) = field(&spec, 1) {
        let names = [
            "",
            "namespace",
            "verb",
            "group",
            "version",
            "resource",
            "subresource",
            "name",
        ];
        for (f, w, v) in fields(&attrs)? {
            if let (2, Some(name)) = (w, names.get(f as usize).filter(|n| !n.is_empty())) {
                ra.insert(
                    (*name).to_string(),
                    serde_json::Value::String(String::from_utf8_lossy(&v).into_owned()),
                );
            }
        }
    }
    let spec = if ra.is_empty() {
        serde_json::json!({"nonResourceAttributes": {}})
    } else {
        serde_json::json!({"resourceAttributes": ra})
    };
    Some(
        serde_json::json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "metadata": {}, "spec": spec}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(field: u8, v: &[u8]) -> Vec<u8> {
        let mut out = vec![(field << 3) | 2, v.len() as u8];
        out.extend_from_slice(v);
        out
    }

    #[test]
    fn decodes_kubectl_auth_can_i() {
        let attrs = [
            ld(1, b"kube-system"),
            ld(2, b"delete"),
            ld(5, b"persistentvolumeclaims"),
        ]
        .concat();
        let spec = ld(1, &attrs);
        let ssar = [ld(1, b""), ld(2, &spec)].concat();
        let type_meta = [
            ld(1, b"authorization.k8s.io/v1"),
            ld(2, b"SelfSubjectAccessReview"),
        ]
        .concat();
        let unknown = [ld(1, &type_meta), ld(2, &ssar), ld(4, b"")].concat();
        let body = [b"k8s\0".as_slice(), &unknown].concat();
        let v = self_subject_access_review(&body).unwrap_or_default();
        assert_eq!(v["spec"]["resourceAttributes"]["verb"], "delete");
        assert_eq!(v["spec"]["resourceAttributes"]["namespace"], "kube-system");
        assert_eq!(
            v["spec"]["resourceAttributes"]["resource"],
            "persistentvolumeclaims"
        );
        assert!(self_subject_access_review(b"garbage").is_none());
    }
}
