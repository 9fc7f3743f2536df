"""Every command name, action_id, block_id and callback_id the app uses, in one place."""

COMMAND = "/integrations"

# Connection lifecycle (buttons carry the connection id or pending grant id as their value)
RECONNECT = "connection_reconnect"
CONNECT_LINK = "connection_open_provider_login"  # the link button to the provider's login
CONNECT_PROVIDER = "connection_connect_provider"  # App Home / switch: value = provider name
SWITCH_PROVIDER = "connection_switch_provider"  # value = provider name (confirmed)
CHOOSE_TENANT = (
    "connection_choose_tenant"  # static select; option value = pending grant id + tenant
)
CONFIRM_TENANT_SWITCH = "connection_confirm_tenant_switch"  # value = pending grant id
CANCEL_TENANT_SWITCH = "connection_cancel_tenant_switch"  # value = pending grant id
DISCONNECT = "connection_disconnect"  # value = connection id (confirmed in a dialog)
OPEN_SETTINGS = "settings_open"

SETTINGS_VIEW = "settings_view"
SETTINGS_WARN_BLOCK, SETTINGS_WARN = "settings_warn_block", "settings_warn"
SETTINGS_CHANNEL_BLOCK, SETTINGS_CHANNEL = "settings_channel_block", "settings_channel"
SETTINGS_STATUS_BLOCK, SETTINGS_STATUS = "settings_status_block", "settings_status"
SETTINGS_ACCOUNT_BLOCK, SETTINGS_ACCOUNT = "settings_account_block", "settings_account"

# Items and supplier prompts (values carry the item id, or "item_id|supplier_id")
CREATE_SUPPLIER = "item_create_supplier"
USE_SUPPLIER = "item_use_supplier"
MORE_SUPPLIERS = "item_more_suppliers"  # static select of further candidates
SEARCH_SUPPLIERS = "item_search_suppliers"  # external select over all suppliers
PUBLISH_ANYWAY = "item_publish_anyway"
DISCARD_ITEM = "item_discard"
RETRY_ITEM = "item_retry"
EDIT_ITEM = "item_edit"
VIEW_BILL = "item_view_bill"  # the link button to the bill at the provider
OPEN_PROMPT = "item_open_prompt"  # a grouped message's button: post that item's own prompt
SUBMIT_SHORTCUT = "submit_receipt"
ITEM_VIEW = "item_view"  # the submit / edit form; private_metadata holds channel or item id
ITEM_SUPPLIER_BLOCK, ITEM_SUPPLIER = "item_supplier_block", "item_supplier"
ITEM_DATE_BLOCK, ITEM_DATE = "item_date_block", "item_date"
ITEM_TOTAL_BLOCK, ITEM_TOTAL = "item_total_block", "item_total"
ITEM_CURRENCY_BLOCK, ITEM_CURRENCY = "item_currency_block", "item_currency"
ITEM_TAX_BLOCK, ITEM_TAX = "item_tax_block", "item_tax"
ITEM_REFERENCE_BLOCK, ITEM_REFERENCE = "item_reference_block", "item_reference"
ITEM_CATEGORY_BLOCK, ITEM_CATEGORY = "item_category_block", "item_category"
ITEM_DESCRIPTION_BLOCK, ITEM_DESCRIPTION = "item_description_block", "item_description"
