# A Postgres table found through a value of a MongoDB document:
# crm.customer_details.loyalty.card_number -> loyalty_cards.card_number.
dataset "rewards" {
  connection = "shop_db"

  collection "loyalty_cards" {
    field "id" {
      type        = "integer"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "card_number" {
      type       = "string"
      categories = ["system.operations"]
      reference "crm.customer_details.loyalty.card_number" {
        direction = "from"
      }
    }
    field "holder_name" {
      type       = "string"
      categories = ["user.name"]
    }
    field "points" {
      type       = "integer"
      categories = ["system.operations"]
    }
  }
}
