"""``python -m mlpilot``: the same as the ``mlpilot`` command."""

from mlpilot.cli.app import main

if __name__ == "__main__":
    main()
