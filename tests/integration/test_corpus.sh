#!/bin/sh
# The labelled complaint e-mail corpus (tests/corpus/email: NAME.eml against
# NAME.expected.json, field by field, with per-field accuracy) and the peer
# corpora (Stalwart mail-parser's oracles, Apache mime4j's test messages:
# From, Subject, text and attachment names, and that every message, however
# malformed, gives a record and exit status 0). TAP on stdout.
# Run by tests/run.sh with $INTAKE set, from the repository root.
set -u
: "${INTAKE:?INTAKE must name the intake binary}"
peers=${INTAKE_PEER_CORPORA:-/work/shared/corpora}
set -- "$INTAKE" tests/corpus/email/intake.conf labelled tests/corpus/email
[ -d "$peers/stalwart/resources/eml" ] && set -- "$@" stalwart "$peers/stalwart/resources/eml"
[ -d "$peers/mime4j/core/src/test/resources" ] && set -- "$@" mime4j "$peers/mime4j/core/src/test/resources"
exec /usr/bin/python3 tests/corpus/email/check_corpus.py "$@"
