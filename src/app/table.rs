//! State of one sortable, filterable table: the filter text, the sort column, the filtered and
//! sorted row order, and a selection keyed by a stable row id so it survives rows appearing and
//! vanishing between polls. The view renders only `order[offset..offset + height]`.
//!
//! Filter and sort keys are cached per data version ([`TableData::version`]): a row set that
//! offers [`TableData::haystack`] has its searchable text lower-cased once per snapshot, and one
//! that offers [`TableData::sort_key`] has the sort column's keys computed once per snapshot and
//! column. A filter keystroke then costs one substring search per row, no allocation, and a
//! re-sort costs no formatting. Row sets without these keep working through `matches` and
//! `compare`.

use std::cell::Cell;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// Stable identity of a row (a hash of what the row is about: pid, peer, port, alert key...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RowKey(pub u64);

impl RowKey {
    pub fn of<T: Hash + ?Sized>(v: &T) -> RowKey {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        v.hash(&mut h);
        RowKey(h.finish())
    }
}

/// A table's typed columns, as the state sees them: an enum with one variant per column, whose
/// position in [`ColumnId::ALL`] is its index in [`TableState`] (its `sort.column`) and in the
/// row set's `sort_key` / `compare`. How a column looks (header, widths, alignment) is the
/// view's (`ui::table::Column`).
pub trait ColumnId: Copy + Eq + std::fmt::Debug + 'static {
    /// Every column, in display order.
    const ALL: &'static [Self];

    /// This column's index in [`ColumnId::ALL`].
    fn index(self) -> usize {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    /// The column at `index`, if any.
    fn at(index: usize) -> Option<Self> {
        Self::ALL.get(index).copied()
    }
}

/// A cached sort key: missing values first, then numbers, then text. Build a tie-broken key
/// with [`SortKey::Tuple`] (e.g. namespace then name).
#[derive(Debug, Clone)]
pub enum SortKey {
    Missing,
    Num(f64),
    Text(Box<str>),
    Tuple(Box<[SortKey]>),
}

impl SortKey {
    pub fn text(s: &str) -> SortKey {
        SortKey::Text(s.into())
    }

    /// Counts, bytes, seconds: exact up to 2^53.
    pub fn num(n: f64) -> SortKey {
        SortKey::Num(n)
    }

    /// `None` sorts first, like `Option`'s own order.
    pub fn opt_text(s: Option<&str>) -> SortKey {
        s.map_or(SortKey::Missing, SortKey::text)
    }

    pub fn opt_num(n: Option<f64>) -> SortKey {
        n.map_or(SortKey::Missing, SortKey::num)
    }

    /// A timestamp (milliseconds), `None` first.
    pub fn time(t: Option<jiff::Timestamp>) -> SortKey {
        SortKey::opt_num(t.map(|t| t.as_millisecond() as f64))
    }

    pub fn tuple(keys: impl IntoIterator<Item = SortKey>) -> SortKey {
        SortKey::Tuple(keys.into_iter().collect())
    }

    fn rank(&self) -> u8 {
        match self {
            SortKey::Missing => 0,
            SortKey::Num(_) => 1,
            SortKey::Text(_) => 2,
            SortKey::Tuple(_) => 3,
        }
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortKey::Num(a), SortKey::Num(b)) => a.total_cmp(b),
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
            (SortKey::Tuple(a), SortKey::Tuple(b)) => a.iter().cmp(b.iter()),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SortKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SortKey {}

/// What a table needs from its data. Implemented by each pane's row set.
pub trait TableData {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn key(&self, i: usize) -> RowKey;

    /// Identity of this data (a counter the pane bumps with every new snapshot): while it stays
    /// the same, the table reuses its cached filter text and sort keys. `None`: never cache.
    fn version(&self) -> Option<u64> {
        None
    }

    /// Appends the searchable text of row `i` to `out` (fields separated by `\n`, as written:
    /// the table lower-cases it once). Returns `false` if this row set does not offer it (then
    /// [`TableData::matches`] is used).
    fn haystack(&self, _i: usize, _out: &mut String) -> bool {
        false
    }

    /// `needle` is already lower-case and non-empty. `scratch` is a reusable buffer so a
    /// filter keystroke over 10^5 rows does not allocate per row. The default searches the
    /// haystack.
    fn matches(&self, i: usize, needle: &str, scratch: &mut String) -> bool {
        scratch.clear();
        self.haystack(i, scratch) && scratch_contains(scratch, needle)
    }

    /// The sort key of row `i` in `column`, computed once per version and column. `None`: this
    /// row set compares with [`TableData::compare`] instead.
    fn sort_key(&self, _i: usize, _column: usize) -> Option<SortKey> {
        None
    }

    /// Used when `sort_key` is `None`. Equal rows keep their data order (the source's order).
    fn compare(&self, _a: usize, _b: usize, _column: usize) -> Ordering {
        Ordering::Equal
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: usize,
    pub descending: bool,
}

/// Lower-cased searchable text of every row, one version of the data.
#[derive(Debug, Clone, Default)]
struct FilterCache {
    version: Option<u64>,
    len: usize,
    text: String,
    /// `ends[i]`: end of row `i`'s text in `text` (starts at `ends[i - 1]`).
    ends: Vec<u32>,
}

/// Sort keys of every row in one column, one version of the data.
#[derive(Debug, Clone, Default)]
struct SortCache {
    version: Option<u64>,
    len: usize,
    column: usize,
    keys: Vec<SortKey>,
}

#[derive(Debug, Clone)]
pub struct TableState {
    pub filter: String,
    pub sort: Sort,
    pub columns: usize,
    /// Indices into the data, filtered and sorted.
    pub order: Vec<usize>,
    /// Position of the selection in `order`.
    pub cursor: usize,
    pub selected: Option<RowKey>,
    /// First visible row; adjusted by the view to keep the cursor visible (view-only state).
    pub offset: Cell<usize>,
    filter_cache: Option<FilterCache>,
    sort_cache: Option<SortCache>,
}

impl TableState {
    pub fn new(columns: usize, sort: Sort) -> TableState {
        TableState {
            filter: String::new(),
            sort,
            columns: columns.max(1),
            order: Vec::new(),
            cursor: 0,
            selected: None,
            offset: Cell::new(0),
            filter_cache: None,
            sort_cache: None,
        }
    }

    /// Recomputes the order after new data, a filter or a sort change, keeping the selected row
    /// selected if it still exists; if it vanished, the cursor stays at the same position.
    pub fn rebuild(&mut self, data: &dyn TableData) {
        let needle = self.filter.to_lowercase();
        self.order.clear();
        self.order.reserve(data.len());
        if needle.is_empty() {
            self.order.extend(0..data.len());
        } else if self.ensure_filter_cache(data)
            && let Some(cache) = &self.filter_cache
        {
            let mut start = 0usize;
            for (i, &end) in cache.ends.iter().enumerate() {
                let end = end as usize;
                if cache
                    .text
                    .get(start..end)
                    .is_some_and(|t| t.contains(&needle))
                {
                    self.order.push(i);
                }
                start = end;
            }
        } else {
            let mut scratch = String::with_capacity(64);
            self.order
                .extend((0..data.len()).filter(|&i| data.matches(i, &needle, &mut scratch)));
        }
        let Sort { column, descending } = self.sort;
        let ord = |o: Ordering| if descending { o.reverse() } else { o };
        let cached = self.ensure_sort_cache(data, column);
        match &self.sort_cache {
            Some(c) if cached => {
                let keys = &c.keys;
                self.order
                    .sort_by(|&a, &b| ord(keys[a].cmp(&keys[b])).then(a.cmp(&b)))
            }
            _ => self
                .order
                .sort_by(|&a, &b| ord(data.compare(a, b, column)).then(a.cmp(&b))),
        }
        let found = self
            .selected
            .and_then(|k| self.order.iter().position(|&i| data.key(i) == k));
        match found {
            Some(pos) => self.cursor = pos,
            None => {
                self.cursor = self.cursor.min(self.order.len().saturating_sub(1));
                self.selected = self.order.get(self.cursor).map(|&i| data.key(i));
            }
        }
    }

    /// Makes sure the lower-cased haystacks of this data version are cached (built on the first
    /// filter keystroke after new data); `false` if the data offers no haystack.
    fn ensure_filter_cache(&mut self, data: &dyn TableData) -> bool {
        let version = data.version();
        let len = data.len();
        let fresh = version.is_some()
            && matches!(&self.filter_cache, Some(c) if c.version == version && c.len == len);
        if !fresh {
            let mut text = String::new();
            let mut ends = Vec::with_capacity(len);
            let mut row = String::with_capacity(64);
            for i in 0..len {
                row.clear();
                if !data.haystack(i, &mut row) {
                    self.filter_cache = None;
                    return false;
                }
                if row.is_ascii() {
                    row.make_ascii_lowercase();
                    text.push_str(&row);
                } else {
                    text.push_str(&row.to_lowercase());
                }
                // A row boundary nobody can match across.
                text.push('\n');
                ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
            }
            self.filter_cache = Some(FilterCache {
                version,
                len,
                text,
                ends,
            });
        }
        self.filter_cache.is_some()
    }

    /// Makes sure the sort keys of `column` for this data version are cached; `false` if the
    /// data offers none.
    fn ensure_sort_cache(&mut self, data: &dyn TableData, column: usize) -> bool {
        let version = data.version();
        let len = data.len();
        let fresh = version.is_some()
            && matches!(&self.sort_cache,
                Some(c) if c.version == version && c.len == len && c.column == column);
        if !fresh {
            if len == 0 {
                return false;
            }
            let mut keys = Vec::with_capacity(len);
            for i in 0..len {
                match data.sort_key(i, column) {
                    Some(k) => keys.push(k),
                    None => {
                        self.sort_cache = None;
                        return false;
                    }
                }
            }
            self.sort_cache = Some(SortCache {
                version,
                len,
                column,
                keys,
            });
        }
        self.sort_cache.is_some()
    }

    /// Index into the data of the selected row.
    pub fn selected_index(&self) -> Option<usize> {
        self.order.get(self.cursor).copied()
    }

    pub fn move_by(&mut self, delta: isize, data: &dyn TableData) {
        if self.order.is_empty() {
            return;
        }
        let last = self.order.len() as isize - 1;
        let c = (self.cursor as isize + delta).clamp(0, last) as usize;
        self.select_position(c, data);
    }

    pub fn first(&mut self, data: &dyn TableData) {
        self.select_position(0, data);
    }

    pub fn last(&mut self, data: &dyn TableData) {
        self.select_position(self.order.len().saturating_sub(1), data);
    }

    fn select_position(&mut self, pos: usize, data: &dyn TableData) {
        self.cursor = pos.min(self.order.len().saturating_sub(1));
        self.selected = self.order.get(self.cursor).map(|&i| data.key(i));
    }

    pub fn cycle_sort(&mut self, forward: bool, data: &dyn TableData) {
        let n = self.columns;
        self.sort.column = if forward {
            (self.sort.column + 1) % n
        } else {
            (self.sort.column + n - 1) % n
        };
        self.rebuild(data);
    }

    pub fn reverse_sort(&mut self, data: &dyn TableData) {
        self.sort.descending = !self.sort.descending;
        self.rebuild(data);
    }

    pub fn set_filter(&mut self, filter: String, data: &dyn TableData) {
        self.filter = filter;
        self.rebuild(data);
    }

    /// The slice of `order` to draw in `height` rows, scrolling just enough to show the cursor.
    pub fn visible(&self, height: usize) -> (usize, &[usize]) {
        let height = height.max(1);
        let mut off = self.offset.get();
        if self.cursor < off {
            off = self.cursor;
        } else if self.cursor >= off + height {
            off = self.cursor + 1 - height;
        }
        off = off.min(self.order.len().saturating_sub(height));
        self.offset.set(off);
        let end = (off + height).min(self.order.len());
        (off, &self.order[off.min(end)..end])
    }
}

/// Lower-cases `scratch` in place (ASCII fast path) and looks for `needle`.
pub fn scratch_contains(scratch: &mut str, needle: &str) -> bool {
    if scratch.is_ascii() {
        scratch.make_ascii_lowercase();
        scratch.contains(needle)
    } else {
        scratch.to_lowercase().contains(needle)
    }
}

/// Compare helpers for `TableData::compare`.
pub fn cmp_f64(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rows(Vec<(&'static str, u64)>);
    impl TableData for Rows {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn key(&self, i: usize) -> RowKey {
            RowKey::of(self.0[i].0)
        }
        fn matches(&self, i: usize, n: &str, _: &mut String) -> bool {
            self.0[i].0.contains(n)
        }
        fn compare(&self, a: usize, b: usize, c: usize) -> Ordering {
            if c == 0 {
                self.0[a].0.cmp(self.0[b].0)
            } else {
                self.0[a].1.cmp(&self.0[b].1)
            }
        }
    }

    #[test]
    fn selection_follows_its_row_and_survives_vanishing() {
        let mut t = TableState::new(
            2,
            Sort {
                column: 1,
                descending: true,
            },
        );
        let d = Rows(vec![("java", 10), ("nginx", 30), ("redis", 20)]);
        t.rebuild(&d);
        assert_eq!(t.selected_index(), Some(1)); // nginx first
        t.move_by(1, &d); // redis
        assert_eq!(d.0[t.selected_index().unwrap()].0, "redis");
        // New poll: redis moves to the top; the selection follows it.
        let d = Rows(vec![("java", 10), ("nginx", 30), ("redis", 99)]);
        t.rebuild(&d);
        assert_eq!(t.cursor, 0);
        assert_eq!(d.0[t.selected_index().unwrap()].0, "redis");
        // redis vanishes: the cursor keeps its position and selects what is there now.
        let d = Rows(vec![("java", 10), ("nginx", 30)]);
        t.rebuild(&d);
        assert_eq!(d.0[t.selected_index().unwrap()].0, "nginx");
        // Everything vanishes, then comes back: no panic, selection re-established.
        t.rebuild(&Rows(vec![]));
        assert_eq!(t.selected_index(), None);
        t.rebuild(&d);
        assert!(t.selected_index().is_some());
    }

    #[test]
    fn filter_and_visible_window() {
        let mut t = TableState::new(
            2,
            Sort {
                column: 0,
                descending: false,
            },
        );
        let d = Rows(
            (0..100)
                .map(|i| (if i % 2 == 0 { "even" } else { "odd" }, i))
                .collect(),
        );
        t.set_filter("EV".to_lowercase(), &d);
        assert_eq!(t.order.len(), 50);
        t.last(&d);
        let (off, rows) = t.visible(10);
        assert_eq!((off, rows.len()), (40, 10));
        t.first(&d);
        assert_eq!(t.visible(10).0, 0);
    }

    /// Counts how often the table asks for haystacks and sort keys.
    struct Counted {
        rows: Vec<(&'static str, u64)>,
        version: Option<u64>,
        haystacks: Cell<usize>,
        keys: Cell<usize>,
    }

    impl Counted {
        fn new(rows: Vec<(&'static str, u64)>, version: Option<u64>) -> Counted {
            Counted {
                rows,
                version,
                haystacks: Cell::new(0),
                keys: Cell::new(0),
            }
        }
    }

    impl TableData for Counted {
        fn len(&self) -> usize {
            self.rows.len()
        }
        fn key(&self, i: usize) -> RowKey {
            RowKey::of(self.rows[i].0)
        }
        fn version(&self) -> Option<u64> {
            self.version
        }
        fn haystack(&self, i: usize, out: &mut String) -> bool {
            self.haystacks.set(self.haystacks.get() + 1);
            out.push_str(self.rows[i].0);
            true
        }
        fn sort_key(&self, i: usize, column: usize) -> Option<SortKey> {
            self.keys.set(self.keys.get() + 1);
            Some(match column {
                0 => SortKey::text(self.rows[i].0),
                _ => SortKey::num(self.rows[i].1 as f64),
            })
        }
    }

    fn names(t: &TableState, d: &Counted) -> Vec<&'static str> {
        t.order.iter().map(|&i| d.rows[i].0).collect()
    }

    #[test]
    fn filter_text_is_lowered_once_per_version_and_rebuilt_for_new_data() {
        let mut t = TableState::new(
            2,
            Sort {
                column: 1,
                descending: false,
            },
        );
        let d = Counted::new(vec![("Java", 3), ("nginx", 1), ("JAVAscript", 2)], Some(1));
        t.set_filter("jav".into(), &d);
        assert_eq!(names(&t, &d), vec!["JAVAscript", "Java"]);
        assert_eq!(d.haystacks.get(), 3);
        // More keystrokes on the same data: no haystack built again, sort keys reused.
        let keys = d.keys.get();
        t.set_filter("java".into(), &d);
        t.set_filter("javas".into(), &d);
        assert_eq!(names(&t, &d), vec!["JAVAscript"]);
        assert_eq!((d.haystacks.get(), d.keys.get()), (3, keys));
        // New data (a new version): the cache follows it.
        let d2 = Counted::new(vec![("javascript-2", 9), ("nginx", 1)], Some(2));
        t.rebuild(&d2);
        assert_eq!(names(&t, &d2), vec!["javascript-2"]);
        assert_eq!(d2.haystacks.get(), 2);
        // Without a version nothing is cached.
        let d3 = Counted::new(vec![("a", 1), ("b", 2)], None);
        t.set_filter("a".into(), &d3);
        t.set_filter("b".into(), &d3);
        assert_eq!(d3.haystacks.get(), 4);
        assert_eq!(names(&t, &d3), vec!["b"]);
    }

    #[test]
    fn cached_sort_keys_sort_and_follow_the_column() {
        let mut t = TableState::new(
            2,
            Sort {
                column: 1,
                descending: true,
            },
        );
        let d = Counted::new(vec![("b", 1), ("c", 3), ("a", 2)], Some(7));
        t.rebuild(&d);
        assert_eq!(names(&t, &d), vec!["c", "a", "b"]);
        t.cycle_sort(true, &d); // column 0, still descending
        assert_eq!(names(&t, &d), vec!["c", "b", "a"]);
        t.reverse_sort(&d);
        assert_eq!(names(&t, &d), vec!["a", "b", "c"]);
        // Two key builds (one per column), not one per comparison.
        assert_eq!(d.keys.get(), 6);
    }

    #[test]
    fn sort_keys_order_missing_numbers_text_and_tuples() {
        let mut v = vec![
            SortKey::text("b"),
            SortKey::num(2.0),
            SortKey::Missing,
            SortKey::num(-1.0),
            SortKey::tuple([SortKey::text("a"), SortKey::text("z")]),
            SortKey::tuple([SortKey::text("a"), SortKey::text("b")]),
            SortKey::text("a"),
        ];
        v.sort();
        assert_eq!(
            v,
            vec![
                SortKey::Missing,
                SortKey::num(-1.0),
                SortKey::num(2.0),
                SortKey::text("a"),
                SortKey::text("b"),
                SortKey::tuple([SortKey::text("a"), SortKey::text("b")]),
                SortKey::tuple([SortKey::text("a"), SortKey::text("z")]),
            ]
        );
    }
}
