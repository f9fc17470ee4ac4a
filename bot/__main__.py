from bot.cli import main

if __name__ == "__main__":  # not when a worker process (pictures) imports it
    raise SystemExit(main())
