//! State of one sortable, filterable table: the filter text, the sort column, the filtered and
//! sorted row order, and a selection keyed by a stable row id so it survives rows appearing and
//! vanishing between polls. The view renders only `order[offset..offset + height]`.

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

/// What a table needs from its data. Implemented by each pane's row set.
pub trait TableData {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn key(&self, i: usize) -> RowKey;
    /// `needle` is already lower-case and non-empty. `scratch` is a reusable buffer so a
    /// filter keystroke over 10^5 rows does not allocate per row.
    fn matches(&self, i: usize, needle: &str, scratch: &mut String) -> bool;
    fn compare(&self, a: usize, b: usize, column: usize) -> Ordering;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: usize,
    pub descending: bool,
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
        } else {
            let mut scratch = String::with_capacity(64);
            self.order
                .extend((0..data.len()).filter(|&i| data.matches(i, &needle, &mut scratch)));
        }
        let Sort { column, descending } = self.sort;
        self.order.sort_by(|&a, &b| {
            let o = data.compare(a, b, column);
            let o = if descending { o.reverse() } else { o };
            o.then(a.cmp(&b))
        });
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
}
