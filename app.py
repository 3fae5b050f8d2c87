"""Serve the chat page on http://127.0.0.1:7860 over the documents in ./seeds."""

from qa.ui import main

if __name__ == "__main__":
    main()
