#pragma once

#include <QAbstractTableModel>
#include <QObject>

#include <utility>
#include <vector>

namespace fleet {

// One kind of entity's row protocol in the FleetStore (workers, regions, operations, audit entries): membership
// changes are signalled at once as about-to / done pairs over row ranges, and changes to existing rows are marked
// and signalled later, coalesced into ascending [first, last] ranges (GammaRay's TimerModel::applyChanges).
// The store owns the rows and calls the begin/end pairs around its own edits; models, the action controller and
// fleetctl listen here instead of to one set of signals per kind. Qt Core.
class EntityTable : public QObject
{
    Q_OBJECT

public:
    using Ranges = std::vector<std::pair<int, int>>; // [first, last] row ranges, ascending

    using QObject::QObject;

    void beginReset() { Q_EMIT aboutToBeReset(); }
    void endReset();
    void beginInsert(int first, int last) { Q_EMIT aboutToBeInserted(first, last); }
    void endInsert() { Q_EMIT inserted(); }
    // Changes still marked are signalled first: their row numbers are about to move.
    void beginRemove(int first, int last);
    void endRemove() { Q_EMIT removed(); }

    void mark(int row); // the row's value changed: signalled with the next flushChanges()
    // Emits changed() with the marked rows as ranges (nothing when none is marked); true when it did.
    bool flushChanges();

Q_SIGNALS:
    void aboutToBeReset();
    void reset();
    void aboutToBeInserted(int first, int last);
    void inserted();
    void aboutToBeRemoved(int first, int last);
    void removed();
    void changed(const fleet::EntityTable::Ranges &rows);

private:
    Ranges takeChanges(); // the marked rows as ranges, cleared

    std::vector<int> m_dirty;
    std::vector<char> m_isDirty; // by row
};

// The one base of the store's table models (hotspot's HashModel): it follows an EntityTable's protocol (resets,
// inserts, removes, coalesced changes over every column), so a subclass only says how many columns there are, how
// many rows, and what a cell shows.
class EntityTableModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    explicit EntityTableModel(int columns, QObject *parent = nullptr);

    int columnCount(const QModelIndex &parent = {}) const override { return parent.isValid() ? 0 : m_columns; }

protected:
    // Follows `table` from now on; called by the subclass's constructor once what its cells read exists (so that,
    // say, a verdict monitor the model made itself hears of new rows before the views do).
    void follow(EntityTable *table);

private:
    int m_columns;
};

} // namespace fleet

Q_DECLARE_METATYPE(fleet::EntityTable::Ranges)
