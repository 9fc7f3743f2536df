"""Every command name, action_id, block_id and callback_id the app uses, in one place."""

COMMAND = "/integrations"

# App Home buttons
HOME_OPEN_HELP = "home_open_help"
