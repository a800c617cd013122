//! The page picker (`templates/picker.html`): a tree of the pages a person
//! may share, a search box, and a footer saying what will be shared, with
//! the form's buttons. The consent page and an internal integration's
//! **Access** screens both show it; each fills a `Picker`.

use crate::db::models::Visibility;
use crate::domain::workspaces::TreeRow;
use crate::http::layout::display_title;

pub struct PickerRow {
    pub id: String,
    pub parent_id: String,
    pub title: String,
    pub depth: usize,
    pub private: bool,
    /// Ticked when the page opens (already shared).
    pub checked: bool,
    /// Shared now (shows the **Shared** badge).
    pub shared: bool,
    pub has_children: bool,
    /// Where the page sits ("Engineering / Roadmap"), for search results.
    pub path: String,
    /// The ticked ancestor whose sharing carries this page along.
    pub included_with: Option<String>,
    /// Where the page sits in the tree's own order (before the shared
    /// subtrees move first): its row in `plain_rows`.
    pub idx: usize,
}

impl PickerRow {
    /// Shown as every row is before anything is ticked.
    fn plain(&self) -> bool {
        !self.checked && !self.shared && self.included_with.is_none()
    }
}

/// One row as `templates/picker_row.html` renders it.
#[derive(askama::Template)]
#[template(path = "picker_row.html")]
struct RowView<'a> {
    p: &'a PickerRow,
}

/// A submit button in the picker's footer.
pub struct PickerAction {
    pub name: &'static str,
    pub value: &'static str,
    pub label: String,
    pub primary: bool,
    pub disabled: bool,
}

/// Everything `templates/picker.html` shows.
pub struct Picker {
    pub rows: Vec<PickerRow>,
    /// Who gets the pages ("Demo Partner"), for the footer's sentences.
    pub who: String,
    /// The tree is open when the page loads (something is shared already).
    pub open: bool,
    /// Some pages are shared now: they come first, marked **Shared**.
    pub reconnecting: bool,
    pub actions: Vec<PickerAction>,
    /// What the search box holds when the page opens (an agent's search
    /// words on an access request); empty for none.
    pub query: String,
    /// The rows already rendered (`list`), or `None` to render `rows`.
    pub list: Option<String>,
}

/// How many titles the footer names before "and N more".
const NAMED: usize = 3;

impl Picker {
    /// Pages that will be shared: ticked ones and those they carry along.
    pub fn checked_count(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.checked || r.included_with.is_some())
            .count()
    }

    /// ": Sales, Design, Engineering and 4 more" — the ticked pages by
    /// title (not those they carry), or nothing when none is ticked.
    pub fn names(&self) -> String {
        let ticked: Vec<&str> = self
            .rows
            .iter()
            .filter(|r| r.checked && r.included_with.is_none())
            .map(|r| r.title.as_str())
            .collect();
        names_of(&ticked)
    }
}

/// The footer's list of titles (`app.js` writes the same after each tick).
fn names_of(ticked: &[&str]) -> String {
    match ticked.len() {
        0 => String::new(),
        n if n <= NAMED => format!(": {}", ticked.join(", ")),
        n => format!(": {} and {} more", ticked[..NAMED].join(", "), n - NAMED),
    }
}

/// The picker's rows in tree order from `(row, shared now)` pairs: subtrees
/// holding a page already shared first, then the rest; each row knows its
/// path and what carries it.
pub fn rows(pages: &[(TreeRow, bool)]) -> Vec<PickerRow> {
    rows_with(pages, true)
}

/// The rows as `rows` makes them, or (`ticks` false) as if nothing were
/// shared: the tree's own order, nothing ticked.
fn rows_with(pages: &[(TreeRow, bool)], ticks: bool) -> Vec<PickerRow> {
    // Root subtrees, in order, the shared ones first.
    let mut subtrees: Vec<Vec<(usize, &TreeRow, bool)>> = Vec::new();
    for (idx, (row, shared)) in pages.iter().enumerate() {
        let row = (idx, row, *shared && ticks);
        match subtrees.last_mut() {
            Some(t) if row.1.depth > 0 => t.push(row),
            _ => subtrees.push(vec![row]),
        }
    }
    subtrees.sort_by_key(|t| !t.iter().any(|(_, _, shared)| *shared));
    let rows: Vec<(usize, &TreeRow, bool)> = subtrees.into_iter().flatten().collect();
    // (depth, title, ticked, private) of the ancestors of the current row.
    let mut stack: Vec<(usize, String, bool, bool)> = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for (i, &(idx, r, ref shared)) in rows.iter().enumerate() {
        while stack.last().is_some_and(|(d, ..)| *d >= r.depth) {
            stack.pop();
        }
        let private = r.page.visibility == Visibility::Private;
        let title = display_title(&r.page.title);
        // Sharing carries workspace pages down, never into a private one.
        let mut included_with = None;
        if !private {
            for (_, t, ticked, p) in stack.iter().rev() {
                if *ticked {
                    included_with = Some(t.clone());
                    break;
                }
                if *p {
                    break;
                }
            }
        }
        out.push(PickerRow {
            id: r.page.id.to_string(),
            parent_id: r
                .page
                .parent_id
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            path: stack
                .iter()
                .map(|(_, t, ..)| t.as_str())
                .collect::<Vec<_>>()
                .join(" / "),
            depth: r.depth.min(8),
            private,
            checked: *shared,
            shared: *shared,
            has_children: rows.get(i + 1).is_some_and(|(_, n, _)| n.depth > r.depth),
            included_with,
            title: title.clone(),
            idx,
        });
        stack.push((r.depth, title, *shared, private));
    }
    out
}

/// Every row rendered as it shows before anything is ticked, in the
/// tree's own order: what the consent page keeps per tree version
/// (`domain::tree_cache`), so a view re-renders only the rows a share
/// changes.
pub fn plain_rows(pages: &[(TreeRow, bool)]) -> Result<Vec<String>, askama::Error> {
    use askama::Template;
    rows_with(pages, false)
        .iter()
        .map(|p| RowView { p }.render())
        .collect()
}

/// The rows as the page shows them: each plain row from `plain` (rendered
/// once per tree version), the ticked, shared or carried ones rendered now.
pub fn list(rows: &[PickerRow], plain: &[String]) -> Result<String, askama::Error> {
    use askama::Template;
    let mut out = String::with_capacity(plain.iter().map(|r| r.len() + 9).sum());
    for p in rows {
        out.push_str("\n        ");
        match plain.get(p.idx).filter(|_| p.plain()) {
            Some(kept) => out.push_str(kept),
            None => RowView { p }.render_into(&mut out)?,
        }
    }
    out.push('\n');
    Ok(out)
}

/// An internal integration's **Access** picker (its own page, and Settings'
/// **Edit access**): open, with one **Save access** button.
pub fn access_picker(plan: &crate::domain::connections::AccessPlan) -> Picker {
    Picker {
        rows: rows(&plan.pages),
        who: plan.integration.name.clone(),
        open: true,
        reconnecting: plan.pages.iter().any(|(_, shared)| *shared),
        actions: vec![PickerAction {
            name: "save",
            value: "access",
            label: "Save access".into(),
            primary: true,
            disabled: false,
        }],
        query: String::new(),
        list: None,
    }
}

/// The one-time note after saving an **Access** picker.
pub fn access_saved(saved: &crate::domain::connections::AccessSaved) -> String {
    let pages = |n: usize| {
        if n == 1 {
            "1 page".to_string()
        } else {
            format!("{n} pages")
        }
    };
    let mut said = format!("Saved the pages {} can reach", saved.name);
    match (saved.shared, saved.unshared) {
        (0, 0) => said.push_str(": nothing changed"),
        (s, 0) => said.push_str(&format!(": shared {}", pages(s))),
        (0, u) => said.push_str(&format!(": stopped sharing {}", pages(u))),
        (s, u) => said.push_str(&format!(
            ": shared {}, stopped sharing {}",
            pages(s),
            pages(u)
        )),
    }
    if saved.token_replaced {
        said.push_str(". Its token was replaced, because someone else had copied it and a private page joined");
    }
    said
}

#[cfg(test)]
mod tests {
    use super::names_of;

    #[test]
    fn the_footer_names_three_titles_then_counts_the_rest() {
        assert_eq!(names_of(&[]), "");
        assert_eq!(names_of(&["Sales", "Design"]), ": Sales, Design");
        assert_eq!(
            names_of(&["Sales", "Design", "Ops", "HR", "Legal"]),
            ": Sales, Design, Ops and 2 more"
        );
    }
}
