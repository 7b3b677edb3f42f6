//! The three-way merge of two edited versions of the document over their common base, row by row: rows
//! are paired by name (a rename followed by its secret), one-sided changes are taken, changes made
//! differently on both sides are reported, and the rows keep their order and columns.

use zeroize::Zeroizing;

use super::{Document, Line, RowMap, split_mark};
use crate::trust::reenrol::{self, Reenrol};

/// A row as the merge sees it.
struct Entry {
    /// Its index in `Document::lines`.
    line: usize,
    /// The lower-case name.
    key: String,
    shown: String,
    /// The decoded secret, when it decodes.
    secret: Option<Zeroizing<Vec<u8>>>,
    /// Column (lower case) -> non-empty value.
    map: RowMap,
}

/// For each of `from`'s rows listed in `from_rows`, the row of `to_rows` that is the same account: the
/// one with the same name, else the one with the same secret when each version holds that secret once.
fn pair(
    from: &[Entry],
    from_rows: &[usize],
    to: &[Entry],
    to_rows: &[usize],
) -> Vec<Option<usize>> {
    let all = |rows: &[Entry]| (0..rows.len()).collect::<Vec<_>>();
    let mut found = vec![None; from.len()];
    let mut taken = vec![false; to.len()];
    for &i in from_rows {
        if let Some(&k) = to_rows
            .iter()
            .find(|&&k| !taken[k] && to[k].key == from[i].key)
        {
            found[i] = Some(k);
            taken[k] = true;
        }
    }
    // Uniqueness is over the whole version, not only the rows still unpaired.
    let holders = |rows: &[Entry], among: &[usize], secret: &[u8]| {
        (0..rows.len())
            .filter(|k| among.contains(k))
            .filter(|&k| rows[k].secret.as_deref().map(|s| s.as_slice()) == Some(secret))
            .collect::<Vec<_>>()
    };
    for &i in from_rows {
        let Some(secret) = from[i].secret.as_deref() else {
            continue;
        };
        if found[i].is_some() || holders(from, &all(from), secret).len() != 1 {
            continue;
        }
        if let [k] = holders(to, &all(to), secret)[..]
            && to_rows.contains(&k)
            && !taken[k]
        {
            found[i] = Some(k);
            taken[k] = true;
        }
    }
    found
}

/// Merges one account's fields; true when a field changed differently on both sides (ours is kept).
fn merge_fields(base: &RowMap, ours: &RowMap, theirs: &RowMap) -> (RowMap, bool) {
    let mut merged = RowMap::new();
    let mut clash = false;
    let columns: std::collections::BTreeSet<&String> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    for column in columns {
        let (b, o, t) = (base.get(column), ours.get(column), theirs.get(column));
        let value = if o == t || b == t {
            o
        } else if b == o {
            t
        } else {
            clash = true;
            o
        };
        if let Some(value) = value {
            merged.insert(column.clone(), value.clone());
        }
    }
    (merged, clash)
}

impl Document {
    /// Three-way merge by account: a row is the same account in BASE, OURS and THEIRS when it has the
    /// same name (case-insensitive) or, failing that, the same secret where that secret is held by one
    /// row only in each version, so a rename on one side is followed. Rows merge field by field: a field
    /// changed on one side takes that change, a field changed differently on both sides keeps ours and
    /// makes the account a conflict (returned). A row added on either side, removed on one side, or
    /// changed on one side merges cleanly. Ours gives the comments, the column order and the row order
    /// (a renamed row stays in place); rows only theirs added come at the end, in their order; every
    /// column of either side (such as re-enrolment marks) is kept.
    pub fn merge(base: &Document, ours: &Document, theirs: &Document) -> (Document, Vec<String>) {
        let (b_rows, o_rows, t_rows) = (base.entries(), ours.entries(), theirs.entries());
        let all = |rows: &[Entry]| (0..rows.len()).collect::<Vec<_>>();
        let o_base = pair(&o_rows, &all(&o_rows), &b_rows, &all(&b_rows));
        let t_base = pair(&t_rows, &all(&t_rows), &b_rows, &all(&b_rows));
        // Rows added on both sides (no base row) pair with each other.
        let o_new: Vec<usize> = (0..o_rows.len()).filter(|i| o_base[*i].is_none()).collect();
        let t_new: Vec<usize> = (0..t_rows.len()).filter(|j| t_base[*j].is_none()).collect();
        let o_t_new = pair(&o_rows, &o_new, &t_rows, &t_new);

        let mut merged = ours.clone();
        let mut conflicts = Vec::new();
        let mut removed = Vec::new();
        let mut their_done = vec![false; t_rows.len()];
        for (i, o) in o_rows.iter().enumerate() {
            let b = o_base[i].map(|k| &b_rows[k]);
            let t = match o_base[i] {
                Some(k) => t_base.iter().position(|m| *m == Some(k)),
                None => o_t_new[i],
            };
            if let Some(j) = t {
                their_done[j] = true;
            }
            let t = t.map(|j| &t_rows[j]);
            match t {
                None if b.is_none() => {}
                // Removed by theirs: clean when ours left it as it was, or only marked it for
                // re-enrolment (a removed account needs none).
                None if b
                    .is_some_and(|b| split_mark(Some(&b.map)).0 == split_mark(Some(&o.map)).0) =>
                {
                    removed.push(o.line)
                }
                None => conflicts.push(o.shown.clone()),
                Some(t) => {
                    // The re-enrolment mark is merged on its own, so a mark on one side and an edit on
                    // the other is not a conflict.
                    let (b_map, b_mark) = split_mark(b.map(|b| &b.map));
                    let (o_map, o_mark) = split_mark(Some(&o.map));
                    let (t_map, t_mark) = split_mark(Some(&t.map));
                    let (mut row, clash) = merge_fields(&b_map, &o_map, &t_map);
                    if clash {
                        conflicts.push(o.shown.clone());
                    }
                    // A mark survives unless the other side re-enrolled (a new secret) after it was
                    // made: a mark made on one side after the common base always stays.
                    let secret = |row: &RowMap| row.get("secret").cloned();
                    let reenrolled = |side: &RowMap| b.is_some() && secret(side) != secret(&b_map);
                    let keep = |mark: Option<Reenrol>, other: &RowMap| {
                        mark.filter(|m| Some(m) != b_mark.as_ref() || !reenrolled(other))
                    };
                    let mark = match (keep(o_mark, &t_map), keep(t_mark, &o_map)) {
                        (Some(a), Some(b)) => Some(a.join(&b)),
                        (a, b) => a.or(b),
                    };
                    if let Some(mark) = mark {
                        row.insert(reenrol::COLUMN.to_owned(), Zeroizing::new(mark.render()));
                    }
                    if row != o.map {
                        merged.put_at(o.line, &row);
                    }
                }
            }
        }
        for (j, t) in t_rows.iter().enumerate() {
            if their_done[j] {
                continue;
            }
            match t_base[j].map(|k| &b_rows[k]) {
                // Added by theirs.
                None => merged.append(&t.map),
                // Removed by ours: clean when theirs left it as it was, or only marked it for
                // re-enrolment.
                Some(b) if split_mark(Some(&b.map)).0 == split_mark(Some(&t.map)).0 => {}
                Some(_) => conflicts.push(t.shown.clone()),
            }
        }
        removed.sort_unstable();
        for line in removed.into_iter().rev() {
            merged.lines.remove(line);
        }
        (merged, conflicts)
    }

    /// Rows as entries for merging: where the row is, its name, its decoded secret and its cells.
    fn entries(&self) -> Vec<Entry> {
        let Some(name) = self.column("name") else {
            return Vec::new();
        };
        let secret = self.column("secret");
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(line, l)| match l {
                Line::Row(cells) => Some((line, cells)),
                Line::Other(_) => None,
            })
            .map(|(line, cells)| {
                let shown = cells
                    .get(name)
                    .map(|c| c.trim().to_owned())
                    .unwrap_or_default();
                let map: RowMap = self
                    .header
                    .iter()
                    .zip(cells)
                    .filter(|(_, v)| !v.trim().is_empty())
                    .map(|(h, v)| (h.to_ascii_lowercase(), Zeroizing::new(v.trim().to_owned())))
                    .collect();
                let secret = secret
                    .and_then(|c| cells.get(c))
                    .and_then(|c| crate::secret::decode(c).ok())
                    .map(|s| Zeroizing::new(s.expose().to_vec()));
                Entry {
                    line,
                    key: shown.to_lowercase(),
                    shown,
                    secret,
                    map,
                }
            })
            .collect()
    }
}
