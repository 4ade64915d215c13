//! The waits scenarios are made of: formed, mid-run, a fresh commit,
//! rejoined, and finished with exactly the balances computed from the
//! file. Each polls with a deadline against hangs and fails saying what it
//! last saw.

use std::time::{Duration, Instant};

use super::cluster::Cluster;
use super::view::{self, ClusterView};
use crate::transfers::differences;

/// How long the members may take to see each other, or the survivors of a
/// fault to commit again: failure detection (≤ 5 s) and a rollback, with a
/// wide margin for a loaded 2-core machine.
const RECOVERY: Duration = Duration::from_secs(60);

/// How long the cluster may take to bring the balances to the expected
/// ones once the last fault is over: a deadline against hangs, not a
/// performance bound.
const COMPLETION: Duration = Duration::from_secs(180);

/// How often the store and the views are polled.
const POLL: Duration = Duration::from_millis(250);

impl Cluster {
    /// Polls member `observer`'s `/v1/cluster` until `ready` holds of it,
    /// for at most `within`: the view that satisfied it.
    pub fn wait_for_view(
        &mut self,
        observer: usize,
        what: &str,
        within: Duration,
        ready: impl Fn(&Self, &ClusterView) -> bool,
    ) -> ClusterView {
        let deadline = Instant::now() + within;
        let http = self.members[observer].http();
        loop {
            let last = view::fetch(http);
            if let Ok(view) = &last {
                if ready(self, view) {
                    return view.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not so within {within:?}; {}'s last view: {last:#?}",
                self.members[observer].name
            );
            std::thread::sleep(POLL);
        }
    }

    /// Whether `view` lists member `index`'s current life as alive, owning
    /// shards.
    pub fn serves(&self, view: &ClusterView, index: usize) -> bool {
        let member = &self.members[index];
        view.member(member.bind, member.http())
            .is_some_and(|seen| seen.is_alive() && seen.shards > 0)
    }

    /// Waits until every running member sees every running member alive
    /// and owning shards, and all agree on the coordinator: its index.
    pub fn wait_formed(&mut self) -> usize {
        let running = self.running();
        let mut coordinators = Vec::new();
        for &observer in &running {
            let wanted = running.clone();
            let view = self.wait_for_view(
                observer,
                "every running member serves, one of them coordinating",
                RECOVERY,
                move |cluster, view| {
                    wanted.iter().all(|&index| cluster.serves(view, index))
                        && cluster
                            .position_of(&view.coordinator)
                            .is_some_and(|coordinator| wanted.contains(&coordinator))
                },
            );
            coordinators.push(self.index_of(&view.coordinator));
        }
        coordinators.dedup();
        assert_eq!(
            coordinators.len(),
            1,
            "the members name different coordinators: {coordinators:?}"
        );
        self.note(&format!(
            "formed: {} members, {} coordinates",
            running.len(),
            self.members[coordinators[0]].name
        ));
        coordinators[0]
    }

    /// The generation every running member runs, once they all run the
    /// same one.
    pub fn generation(&mut self) -> u64 {
        let running = self.running();
        let mut generations = Vec::new();
        for &observer in &running {
            let view = self.wait_for_view(observer, "a generation runs", RECOVERY, |_, view| {
                view.generation.is_some()
            });
            generations.push(view.generation.expect("waited for"));
        }
        generations.dedup();
        assert_eq!(
            generations.len(),
            1,
            "the members run different generations: {generations:?}"
        );
        generations[0]
    }

    /// The member whose id (cluster or HTTP address) is `id`.
    pub fn index_of(&self, id: &str) -> usize {
        self.position_of(id)
            .unwrap_or_else(|| panic!("no member has the id {id:?}"))
    }

    fn position_of(&self, id: &str) -> Option<usize> {
        self.members
            .iter()
            .position(|member| member.bind.to_string() == id || member.http().to_string() == id)
    }

    /// The incarnation member `observer` sees member `index`'s current life
    /// with.
    pub fn incarnation(&mut self, observer: usize, index: usize) -> u64 {
        let view = self.wait_for_view(observer, "the member is listed", RECOVERY, |c, v| {
            c.serves(v, index)
        });
        let member = &self.members[index];
        let seen = view.member(member.bind, member.http()).expect("listed");
        seen.incarnation.unwrap_or_else(|| {
            panic!(
                "/v1/cluster lists no `incarnation` for {}: the fencing checks need it \
                 (issue 4: a member's metadata carries its incarnation): {view:#?}",
                member.name
            )
        })
    }

    /// Waits for a commit after the members formed, then checks that the
    /// committed balances are not the final ones yet, so that a fault
    /// injected now lands mid-run: the epoch committed.
    pub fn wait_mid_run(&mut self) -> u64 {
        let epoch = self.wait_for_fresh_commit("a commit begun after the members formed");
        let committed = self.read_balances();
        assert!(
            committed != self.expected,
            "every transfer was committed by epoch {epoch}, before the fault: raise \
             CAIRN_E2E_TRANSFERS above {} so that faults land mid-run",
            self.workload.transfers
        );
        self.note(&format!("mid-run at epoch {epoch}"));
        epoch
    }

    /// Waits for an epoch begun from now on to commit: one later than the
    /// epoch that may be in flight (after a fault, one the survivors began
    /// without the faulty member). Its number.
    pub fn wait_for_fresh_commit(&self, what: &str) -> u64 {
        let at_fault = self.store.latest_commit().unwrap_or(0);
        self.wait_for_commit_after(Some(at_fault + 1), what)
    }

    /// Waits for an epoch later than `after` to commit: its number.
    pub fn wait_for_commit_after(&self, after: Option<u64>, what: &str) -> u64 {
        let deadline = Instant::now() + RECOVERY;
        loop {
            if let Some(epoch) = self.store.latest_commit().filter(|&e| Some(e) > after) {
                self.note(&format!("{what}: epoch {epoch}"));
                return epoch;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: nothing committed after epoch {after:?} within {RECOVERY:?}"
            );
            std::thread::sleep(POLL);
        }
    }

    /// Waits until member `index`'s current life is listed alive, owning
    /// shards, by every other running member, with an incarnation above
    /// `before`: it was fenced out and came back as a new member.
    pub fn wait_rejoined(&mut self, index: usize, before: u64) {
        let observers: Vec<usize> = self.running().into_iter().filter(|&o| o != index).collect();
        for observer in observers {
            let incarnation = self.incarnation(observer, index);
            assert!(
                incarnation > before,
                "{} sees {} back with incarnation {incarnation}, not above {before}",
                self.members[observer].name,
                self.members[index].name
            );
        }
        self.note(&format!("{} rejoined", self.members[index].name));
    }

    /// Ends the scenario: waits for the committed balances to equal the
    /// expected ones account by account, checks they stay so over two more
    /// commits, that every member started and not stopped since is still
    /// running, and that the live members are exactly those and own every
    /// shard between them.
    pub fn finish(&mut self) {
        let epoch = self.wait_exact();
        let later = self.wait_for_commit_after(Some(epoch + 1), "two more commits");
        let balances = self.read_balances();
        let wrong = differences(&balances, &self.expected, 10);
        assert!(
            wrong.is_empty(),
            "the balances changed after they were exact by epoch {epoch} (epoch {later}): {wrong:?}"
        );
        let running = self.running();
        let observer = *running.first().expect("a member is running");
        let members = self.members.len();
        self.wait_for_view(
            observer,
            "the live members are the running ones and own every shard",
            RECOVERY,
            move |cluster, view| {
                let live = (0..members)
                    .filter(|&index| {
                        let member = &cluster.members[index];
                        view.member(member.bind, member.http())
                            .is_some_and(|seen| seen.is_alive())
                    })
                    .collect::<Vec<_>>();
                let owned: u32 = view.alive().map(|member| member.shards).sum();
                live == running && owned == view.shard_count
            },
        );
        self.note("finished: balances exact");
    }

    /// The committed balances, read again on an error (a read can race the
    /// garbage collection of an epoch a newer commit replaced).
    fn read_balances(&self) -> Vec<i64> {
        let deadline = Instant::now() + RECOVERY;
        loop {
            match self.store.balances() {
                Ok(balances) => return balances,
                Err(error) if Instant::now() >= deadline => panic!("{error}"),
                Err(_) => std::thread::sleep(POLL),
            }
        }
    }

    /// Polls the committed balances until they are exactly the expected
    /// ones: the latest commit once they were (reading them takes a while
    /// on a busy machine, and epochs go on meanwhile).
    fn wait_exact(&mut self) -> u64 {
        let deadline = Instant::now() + COMPLETION;
        loop {
            let last = self.store.balances();
            if last.as_ref() == Ok(&self.expected) {
                let epoch = self
                    .store
                    .latest_commit()
                    .expect("balances come from a commit");
                self.note(&format!("balances exact (latest commit: epoch {epoch})"));
                return epoch;
            }
            for member in &mut self.members {
                member.check_up();
            }
            if Instant::now() >= deadline {
                let detail = match &last {
                    Ok(balances) => format!("{:?}", differences(balances, &self.expected, 10)),
                    Err(error) => error.clone(),
                };
                panic!(
                    "the balances are not the expected ones within {COMPLETION:?} (latest commit: \
                     epoch {:?}): {detail}",
                    self.store.latest_commit()
                );
            }
            std::thread::sleep(POLL * 2);
        }
    }
}
