#pragma once

#include "commands.h"

#include <QString>
#include <QStringList>

namespace fleet::ctl {

struct RecordOptions
{
    QString storePath; // the console's local store (its incident record)
    QString out; // the bundle to write
    QString bundle; // metrics: a bundle to read instead of the local store
    QString fleet; // export, metrics: whose record (the Fleet API URL); empty: the one recorded last
    qint64 fromMs = 0; // 0: no bound
    qint64 toMs = 0;
    qint64 forMs = 0; // record: how long
    bool json = false;
};

// fleetctl record --api URL --for DURATION --out FILE: the live fleet straight into an incident bundle (verdict
// changes, operations, every region's health second by second, from ten minutes before the start), for a fleet
// nobody watched with the console. Ctrl-C ends it early and still writes what was recorded.
int runRecord(const Options &options, const RecordOptions &record);

// fleetctl incident export --out FILE [--from T] [--to T] [--api URL]: the local store's record as a bundle.
// fleetctl incident metrics [--bundle FILE] [--from T] [--to T] [--api URL] [--json]: time to detect, acknowledge and
// mitigate, from a bundle or the local store's record. `args` starts with "incident".
int runIncidentRecord(const QStringList &args, const RecordOptions &record);

} // namespace fleet::ctl
