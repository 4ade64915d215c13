use cairn::stateful_function;

#[stateful_function]
pub enum Account {
    Open,
    Closed,
}

fn main() {}
