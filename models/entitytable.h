#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QObject>
#include <QString>

#include <algorithm>
#include <deque>
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

// One kind's rows with their protocol: the rows (in arrival order), the index from id to row, and every edit
// signalled as it must be (hotspot's HashModel keeps rows and index together the same way). T has a QString `id`.
// The store decides what changes; this class makes sure an edit and its signals and index cannot drift apart.
template <typename T> class EntityRows : public EntityTable
{
public:
    using EntityTable::EntityTable;

    const std::vector<T> &rows() const { return m_rows; }
    static std::size_t withRoom(std::size_t n) { return n + n / 4 + 16; } // the capacity kept for n rows
    int size() const { return int(m_rows.size()); }
    int rowOf(const QString &id) const { return m_row.value(id, -1); }
    const T *find(const QString &id) const
    {
        const int row = rowOf(id);
        return row < 0 ? nullptr : &m_rows[std::size_t(row)];
    }

    // Everything replaced at once (a first load, another fleet): a reset.
    void reset(std::vector<T> rows)
    {
        flushChanges(); // marks refer to the old rows
        beginReset();
        m_rows = std::move(rows);
        // Room to grow: a snapshot's vector is exactly full, and the first worker provisioned after it would move
        // all 50,000 (and rehash the index) inside one event, 5-37 ms on the GUI thread (issue #25).
        m_rows.reserve(withRoom(m_rows.size()));
        reindex();
        endReset();
    }
    // Changed in place when `same` says it differs (marked, signalled with the next flushChanges()), or appended
    // when its id is new. Returns the row.
    template <typename Same> int upsert(const T &value, Same same)
    {
        const int row = rowOf(value.id);
        if (row >= 0) {
            if (!same(m_rows[std::size_t(row)], value)) {
                m_rows[std::size_t(row)] = value;
                mark(row);
            }
            return row;
        }
        append({ value });
        return size() - 1;
    }
    // New rows at the end, as one range.
    void append(std::vector<T> fresh)
    {
        if (fresh.empty())
            return;
        const int first = size();
        beginInsert(first, first + int(fresh.size()) - 1);
        for (T &value : fresh) {
            m_row.insert(value.id, int(m_rows.size()));
            m_rows.push_back(std::move(value));
        }
        endInsert();
    }
    // A row edited where it is: `edit(T &)` returns whether it changed anything (then marked).
    template <typename Edit> void editRow(int row, Edit edit)
    {
        if (edit(m_rows[std::size_t(row)]))
            mark(row);
    }
    // The rows `gone(row number)` picks leave, in contiguous blocks from the bottom up (earlier rows keep their numbers
    // while each block is signalled); marks still pending are signalled first. Returns how many left.
    template <typename Gone> int removeIf(Gone gone)
    {
        int removed = 0;
        int lowest = size();
        for (int last = size() - 1; last >= 0;) {
            if (!gone(last)) {
                --last;
                continue;
            }
            int first = last;
            while (first > 0 && gone(first - 1))
                --first;
            beginRemove(first, last);
            for (int r = first; r <= last; ++r)
                m_row.remove(m_rows[std::size_t(r)].id);
            m_rows.erase(m_rows.begin() + first, m_rows.begin() + last + 1);
            endRemove();
            removed += last - first + 1;
            lowest = first;
            last = first - 1;
        }
        // Only the rows after the first removed one moved: their numbers, not the whole index again.
        for (std::size_t i = std::size_t(lowest); i < m_rows.size(); ++i)
            m_row[m_rows[i].id] = int(i);
        return removed;
    }

private:
    void reindex()
    {
        m_row.clear();
        m_row.reserve(qsizetype(withRoom(m_rows.size())));
        for (std::size_t i = 0; i < m_rows.size(); ++i)
            m_row.insert(m_rows[i].id, int(i));
    }

    std::vector<T> m_rows;
    QHash<QString, int> m_row;
};

// Rows that only arrive at the end and leave from the front (the audit log): no index, bounded by the store.
template <typename T> class EntityLog : public EntityTable
{
public:
    using EntityTable::EntityTable;

    const std::deque<T> &rows() const { return m_rows; }
    int size() const { return int(m_rows.size()); }
    void append(T value)
    {
        const int at = size();
        beginInsert(at, at);
        m_rows.push_back(std::move(value));
        endInsert();
    }
    void dropFront(int count)
    {
        count = std::min(count, size());
        if (count <= 0)
            return;
        beginRemove(0, count - 1);
        m_rows.erase(m_rows.begin(), m_rows.begin() + count);
        endRemove();
    }

private:
    std::deque<T> m_rows;
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
