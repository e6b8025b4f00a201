"""Model backends: litellm set-up and the providers we register with it."""
