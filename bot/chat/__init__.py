"""What a person sees in a chat, channel-independent: reply views, menus, button data, forms."""
