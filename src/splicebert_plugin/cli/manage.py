"""Managing models: ``convert`` and ``download`` (weights and built-in annotations)."""

from __future__ import annotations


from ..errors import UsageError


def cmd_convert(args) -> int:
    from ..checkpoints import convert_checkpoint

    dst = convert_checkpoint(args.src, args.dst, overwrite=args.force)
    print(f"wrote {dst} (load with AutoModelForMaskedLM.from_pretrained({str(dst)!r}))")
    return 0


def cmd_download(args) -> int:
    from ..sources.gencode import SOURCES, builtin_table
    from ..sources.downloads import cache_dir
    from ..checkpoints.install import describe_cache, download_releases, mirror

    if args.list:
        print(f"cache: {cache_dir()}")
        print(describe_cache())
        return 0
    if not args.names and not args.annotation:
        raise UsageError("name the models to fetch (SpliceBERT.510nt, SpliceBERT.1024nt, SpliceBERT-human.510nt, "
                         "or all) and/or --annotation grch37|grch38; --list shows the cache")
    if (args.source is None) != (args.md5 is None):
        raise UsageError("--from URL needs --md5 HEX (the archive's checksum), and --md5 needs --from")
    for name in args.annotation or []:
        if name.lower() not in SOURCES:
            raise UsageError(f"--annotation {name!r}: choose grch37 or grch38")
    if args.names:
        kwargs = {} if args.source is None else {"source": mirror(args.source, args.md5)}
        for folder in download_releases(args.names, force=args.force, progress=not args.quiet, **kwargs):
            print(f"{folder.name}\t{folder}")
    for name in args.annotation or []:
        print(f"{name}\t{builtin_table(name, progress=not args.quiet)}")
    return 0
