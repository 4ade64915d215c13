//! The generated impls, run for real through the runtime.

use cairn::{handlers, stateful_function, Address, Context, Handlers, StatefulFunction};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Debit {
    amount: i64,
}

#[derive(Serialize, Deserialize)]
struct Credit {
    amount: i64,
}

#[derive(Serialize, Deserialize)]
struct GetBalance;

#[stateful_function(name = "bank/account")]
#[derive(Default, Serialize, Deserialize)]
struct Account {
    balance: i64,
}

#[handlers]
impl Account {
    fn debit(&mut self, _ctx: &mut Context, msg: Debit) {
        self.balance -= msg.amount;
    }

    #[message(name = "credit")]
    fn credit(&mut self, _ctx: &mut cairn::Context<'_>, msg: Credit) {
        self.balance += msg.amount;
    }

    fn balance(&self, ctx: &mut Context, _msg: GetBalance) {
        ctx.reply(self.balance);
    }
}

#[stateful_function]
#[derive(Default, Serialize, Deserialize)]
struct Wide {
    balance: i64,
    owner: Vec<String>,
}

#[handlers]
impl Wide {
    fn debit(&mut self, _ctx: &mut Context, msg: Debit) {
        self.balance -= msg.amount;
    }
}

mod narrow {
    use super::*;

    /// `Wide` with another type for `owner`.
    #[stateful_function]
    #[derive(Default, Serialize, Deserialize)]
    pub(super) struct Wide {
        balance: i64,
        owner: Vec<u8>,
    }

    #[handlers]
    impl Wide {
        fn debit(&mut self, _ctx: &mut Context, msg: Debit) {
            self.balance -= msg.amount;
        }
    }
}

mod reformatted {
    use super::*;

    /// `Wide` with the same fields, formatted and documented differently.
    #[stateful_function(name = "reformatted")]
    #[derive(Default, Serialize, Deserialize)]
    #[rustfmt::skip]
    pub(super) struct Wide {
        /// The balance.
        #[serde(default)]
        pub(super) balance : i64 ,
        owner : Vec <
            String
        >,
    }

    #[handlers]
    impl Wide {
        fn debit(&mut self, _ctx: &mut Context, msg: Debit) {
            self.balance -= msg.amount;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_reach_their_handlers() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = cairn::Node::builder().register::<Account>().start().await?;
    let account = Address::of::<Account>("a");
    runtime.send(account.clone(), Debit { amount: 5 })?;
    runtime.send(account.clone(), Credit { amount: 12 })?;
    assert!(
        runtime.send(account.clone(), 5_u64).is_err(),
        "no handler takes u64"
    );
    let balance: i64 = runtime.ask(account, GetBalance).await?;
    assert_eq!(balance, 7);
    let other: i64 = runtime.ask(Address::of::<Account>("b"), GetBalance).await?;
    assert_eq!(other, 0);
    runtime.shutdown().await;
    Ok(())
}

#[test]
fn renamed_messages_register_under_their_name() {
    let names: Vec<_> = <Account as Handlers>::message_types()
        .iter()
        .map(|message| message.name())
        .collect();
    assert_eq!(names, ["Debit", "credit", "GetBalance"]);
    let credit = <Account as Handlers>::message_types()[1];
    assert_eq!(credit.type_id(), std::any::TypeId::of::<Credit>());
}

#[test]
fn type_names_default_to_the_struct_name() {
    assert_eq!(Account::TYPE_NAME, "bank/account");
    assert_eq!(Wide::TYPE_NAME, "Wide");
    assert_eq!(reformatted::Wide::TYPE_NAME, "reformatted");
}

#[test]
fn schema_hash_follows_field_types_not_formatting() {
    assert_ne!(Wide::SCHEMA_HASH, narrow::Wide::SCHEMA_HASH);
    assert_eq!(Wide::SCHEMA_HASH, reformatted::Wide::SCHEMA_HASH);
    assert_ne!(Wide::SCHEMA_HASH, Account::SCHEMA_HASH);
}
