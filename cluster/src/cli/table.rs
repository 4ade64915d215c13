//! The views as aligned plain-text tables: no borders, so the output
//! reads well and greps well.

use cairn::http::views::{ClusterView, FunctionsView, MemberStatus, ShardsView};
use comfy_table::presets::NOTHING;
use comfy_table::{CellAlignment, Table};

/// A borderless table with these column headers; columns listed in
/// `numeric` are right-aligned.
pub(crate) fn table(headers: &[&str], numeric: &[usize]) -> Table {
    let mut table = Table::new();
    table.load_style(NOTHING).set_header(headers.to_vec());
    for (index, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, 2));
        if numeric.contains(&index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// The table as text, without trailing spaces.
pub(crate) fn render(table: &Table) -> String {
    table
        .lines()
        .map(|line| line.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `cairn inspect cluster`.
pub(crate) fn cluster(view: &ClusterView) -> String {
    let mode = serde_json::to_value(view.mode)
        .ok()
        .and_then(|mode| mode.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut members = table(&["ID", "HTTP", "STATUS", "SHARDS"], &[3]);
    for member in &view.members {
        let status = match member.status {
            MemberStatus::Alive => "alive",
        };
        members.add_row(vec![
            member.id.clone(),
            member.http.clone(),
            status.to_owned(),
            member.shards.to_string(),
        ]);
    }
    format!(
        "mode:        {mode}\ncoordinator: {}\nshards:      {}\n\n{}",
        view.coordinator,
        view.shard_count,
        render(&members)
    )
}

/// `cairn inspect shards`.
pub(crate) fn shards(view: &ShardsView) -> String {
    let mut shards = table(
        &[
            "SHARD",
            "OWNER",
            "ACTIVE",
            "PASSIVATED",
            "QUEUED",
            "TIMERS",
            "HANDLED",
            "DEAD LETTERS",
        ],
        &[0, 2, 3, 4, 5, 6, 7],
    );
    for shard in &view.shards {
        shards.add_row(vec![
            shard.shard.to_string(),
            shard.owner.clone(),
            shard.active_actors.to_string(),
            shard.passivated_actors.to_string(),
            shard.queued_messages.to_string(),
            shard.pending_timers.to_string(),
            shard.messages_handled.to_string(),
            shard.dead_letters.to_string(),
        ]);
    }
    render(&shards)
}

/// `cairn inspect functions`.
pub(crate) fn functions(view: &FunctionsView) -> String {
    let mut functions = table(&["FUNCTION", "SCHEMA HASH", "MESSAGES"], &[]);
    for function in &view.functions {
        functions.add_row(vec![
            function.name.clone(),
            function.schema_hash.clone(),
            function.messages.join(", "),
        ]);
    }
    render(&functions)
}
