//! The views as aligned plain-text tables: no borders, so the output
//! reads well and greps well.

use cairn::http::views::{
    ActorStateView, ActorStatusView, ActorsView, ClusterView, FunctionsView, MemberStatus,
    ShardsView, SnapshotsView,
};
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
            MemberStatus::Leaving => "leaving",
            MemberStatus::Dead => "dead",
        };
        members.add_row(vec![
            member.id.clone(),
            member.http.clone(),
            status.to_owned(),
            member.shards.to_string(),
        ]);
    }
    let generation = view
        .generation
        .map_or_else(|| "-".to_owned(), |generation| generation.to_string());
    format!(
        "mode:        {mode}\ncoordinator: {}\ngeneration:  {generation}\nshards:      {}\n\n{}",
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
    let mut functions = table(
        &[
            "FUNCTION",
            "SCHEMA HASH",
            "ACTIVE",
            "PASSIVATED",
            "MESSAGES",
        ],
        &[2, 3],
    );
    for function in &view.functions {
        functions.add_row(vec![
            function.name.clone(),
            function.schema_hash.clone(),
            function.active.to_string(),
            function.passivated.to_string(),
            function.messages.join(", "),
        ]);
    }
    render(&functions)
}

/// A status as the views spell it.
fn status(status: ActorStatusView) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|status| status.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `cairn inspect actors`: the page, then how to get the next one.
pub(crate) fn actors(view: &ActorsView) -> String {
    let mut actors = table(&["ACTOR", "SHARD", "STATUS", "QUEUED", "IDLE"], &[1, 3, 4]);
    for actor in &view.actors {
        let idle = actor
            .idle_for_ms
            .map(|ms| format!("{:.1}s", ms as f64 / 1000.0))
            .unwrap_or_else(|| "-".to_owned());
        actors.add_row(vec![
            actor.address.clone(),
            actor.shard.to_string(),
            status(actor.status),
            actor.queued_messages.to_string(),
            idle,
        ]);
    }
    match &view.next_cursor {
        Some(cursor) => format!("{}\n\nnext page: --cursor '{cursor}'", render(&actors)),
        None => render(&actors),
    }
}

/// `cairn inspect actor`: where it is, then its state as indented JSON.
pub(crate) fn actor(view: &ActorStateView) -> String {
    let at = view
        .epoch
        .map(|epoch| format!("epoch {epoch}"))
        .unwrap_or_else(|| "live".to_owned());
    let state = match (&view.state, &view.error) {
        (Some(state), _) => {
            serde_json::to_string_pretty(state).expect("a JSON value always encodes; this is a bug")
        }
        (None, Some(error)) => format!("(cannot show the state: {error})"),
        (None, None) => "(no state)".to_owned(),
    };
    format!(
        "actor:  {}\nas of:  {at}\nstatus: {}\nnode:   {}\nshard:  {}\nqueued: {}\n\n{state}",
        view.address,
        status(view.status),
        view.node,
        view.shard,
        view.queued_messages,
    )
}

/// `cairn inspect snapshots`.
pub(crate) fn snapshots(view: &SnapshotsView) -> String {
    let optional = |epoch: Option<u64>| epoch.map_or_else(|| "-".to_owned(), |e| e.to_string());
    let mut epochs = table(
        &["EPOCH", "STATUS", "DURATION", "BYTES", "OBJECTS", "ERROR"],
        &[0, 2, 3, 4],
    );
    for epoch in &view.epochs {
        let status = serde_json::to_value(epoch.status)
            .ok()
            .and_then(|status| status.as_str().map(str::to_owned))
            .unwrap_or_default();
        epochs.add_row(vec![
            epoch.epoch.to_string(),
            status,
            format!("{} ms", epoch.duration_ms),
            epoch.bytes.to_string(),
            epoch.objects.to_string(),
            epoch.error.clone().unwrap_or_default(),
        ]);
    }
    format!(
        "store:          {}\nrecovered from: {}\nlast committed: {}\n\n{}",
        view.store.as_deref().unwrap_or("(none: no snapshots)"),
        optional(view.recovered_from),
        optional(view.last_committed),
        render(&epochs)
    )
}
