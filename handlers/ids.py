"""Every command name, action_id, block_id and callback_id the app uses, in one place."""

COMMAND = "/integrations"

# App Home buttons
HOME_OPEN_HELP = "home_open_help"

# Connection lifecycle (buttons carry the connection id or pending grant id as their value)
RECONNECT = "connection_reconnect"
