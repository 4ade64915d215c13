use cairn::{handlers, stateful_function, Handlers};
use serde::{Deserialize, Serialize};

mod msgs {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    pub struct Debit {
        pub amount: i64,
    }

    pub mod v2 {
        use serde::{Deserialize, Serialize};

        #[derive(Serialize, Deserialize)]
        pub struct Debit {
            pub amount: i64,
            pub memo: String,
        }
    }
}

#[stateful_function]
#[derive(Default, Serialize, Deserialize)]
pub struct Account {
    balance: i64,
}

#[handlers]
impl Account {
    fn debit(&mut self, _ctx: &mut ::cairn::Context, msg: crate::msgs::Debit) {
        self.balance -= msg.amount;
    }

    #[message(name = "DebitV2")]
    fn debit_v2(&mut self, _ctx: &mut ::cairn::Context, msg: msgs::v2::Debit) {
        self.balance -= msg.amount;
        drop(msg.memo);
    }

    fn rename(&mut self, _ctx: &mut ::cairn::Context, msg: std::string::String) {
        drop(msg);
    }
}

fn main() {
    let names: Vec<_> = Account::message_types().iter().map(|m| m.name()).collect();
    assert_eq!(names, ["Debit", "DebitV2", "String"]);
}
