package dev.portway.cli;

import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * Go's {@code sort.Sort} and {@code sort.Slice} (pattern-defeating quicksort, as of Go 1.22):
 * not stable, so equal elements of more than twelve can end up in another order than Java's
 * stable sort leaves them. kubectl sorts events this way, and printing the same bytes means
 * sorting the same way.
 */
final class GoSort {

    private static final int INCREASING = 1;
    private static final int DECREASING = 2;

    private final List<?> data;
    private final Comparator<Object> order;

    @SuppressWarnings("unchecked")
    private <T> GoSort(List<T> data, Comparator<? super T> order) {
        this.data = data;
        this.order = (Comparator<Object>) order;
    }

    /** Sorts {@code list} in place as {@code sort.Slice(list, less)} with {@code less = order < 0}. */
    static <T> void sort(List<T> list, Comparator<? super T> order) {
        int n = list.size();
        if (n <= 1) {
            return;
        }
        new GoSort(list, order).pdqsort(0, n, 64 - Long.numberOfLeadingZeros(n));
    }

    private boolean less(int i, int j) {
        return order.compare(data.get(i), data.get(j)) < 0;
    }

    private void swap(int i, int j) {
        Collections.swap(data, i, j);
    }

    private void insertionSort(int a, int b) {
        for (int i = a + 1; i < b; i++) {
            for (int j = i; j > a && less(j, j - 1); j--) {
                swap(j, j - 1);
            }
        }
    }

    private void siftDown(int lo, int hi, int first) {
        int root = lo;
        while (true) {
            int child = 2 * root + 1;
            if (child >= hi) {
                return;
            }
            if (child + 1 < hi && less(first + child, first + child + 1)) {
                child++;
            }
            if (!less(first + root, first + child)) {
                return;
            }
            swap(first + root, first + child);
            root = child;
        }
    }

    private void heapSort(int a, int b) {
        int first = a;
        int hi = b - a;
        for (int i = (hi - 1) / 2; i >= 0; i--) {
            siftDown(i, hi, first);
        }
        for (int i = hi - 1; i >= 0; i--) {
            swap(first, first + i);
            siftDown(0, i, first);
        }
    }

    private void pdqsort(int a, int b, int limit) {
        final int maxInsertion = 12;
        boolean wasBalanced = true;
        boolean wasPartitioned = true;
        while (true) {
            int length = b - a;
            if (length <= maxInsertion) {
                insertionSort(a, b);
                return;
            }
            if (limit == 0) {
                heapSort(a, b);
                return;
            }
            if (!wasBalanced) {
                breakPatterns(a, b);
                limit--;
            }
            int[] choice = choosePivot(a, b);
            int pivot = choice[0];
            int hint = choice[1];
            if (hint == DECREASING) {
                reverseRange(a, b);
                pivot = (b - 1) - (pivot - a);
                hint = INCREASING;
            }
            if (wasBalanced && wasPartitioned && hint == INCREASING && partialInsertionSort(a, b)) {
                return;
            }
            if (a > 0 && !less(a - 1, pivot)) {
                a = partitionEqual(a, b, pivot);
                continue;
            }
            int[] partitioned = partition(a, b, pivot);
            int mid = partitioned[0];
            wasPartitioned = partitioned[1] == 1;
            int leftLen = mid - a;
            int rightLen = b - mid;
            int balanceThreshold = length / 8;
            if (leftLen < rightLen) {
                wasBalanced = leftLen >= balanceThreshold;
                pdqsort(a, mid, limit);
                a = mid + 1;
            } else {
                wasBalanced = rightLen >= balanceThreshold;
                pdqsort(mid + 1, b, limit);
                b = mid;
            }
        }
    }

    /** The new pivot's index, and 1 when the range was already partitioned. */
    private int[] partition(int a, int b, int pivot) {
        swap(a, pivot);
        int i = a + 1;
        int j = b - 1;
        while (i <= j && less(i, a)) {
            i++;
        }
        while (i <= j && !less(j, a)) {
            j--;
        }
        if (i > j) {
            swap(j, a);
            return new int[] {j, 1};
        }
        swap(i, j);
        i++;
        j--;
        while (true) {
            while (i <= j && less(i, a)) {
                i++;
            }
            while (i <= j && !less(j, a)) {
                j--;
            }
            if (i > j) {
                break;
            }
            swap(i, j);
            i++;
            j--;
        }
        swap(j, a);
        return new int[] {j, 0};
    }

    private int partitionEqual(int a, int b, int pivot) {
        swap(a, pivot);
        int i = a + 1;
        int j = b - 1;
        while (true) {
            while (i <= j && !less(a, i)) {
                i++;
            }
            while (i <= j && less(a, j)) {
                j--;
            }
            if (i > j) {
                break;
            }
            swap(i, j);
            i++;
            j--;
        }
        return i;
    }

    private boolean partialInsertionSort(int a, int b) {
        final int maxSteps = 5;
        final int shortestShifting = 50;
        int i = a + 1;
        for (int step = 0; step < maxSteps; step++) {
            while (i < b && !less(i, i - 1)) {
                i++;
            }
            if (i == b) {
                return true;
            }
            if (b - a < shortestShifting) {
                return false;
            }
            swap(i, i - 1);
            if (i - a >= 2) {
                for (int j = i - 1; j >= 1; j--) {
                    if (!less(j, j - 1)) {
                        break;
                    }
                    swap(j, j - 1);
                }
            }
            if (b - i >= 2) {
                for (int j = i + 1; j < b; j++) {
                    if (!less(j, j - 1)) {
                        break;
                    }
                    swap(j, j - 1);
                }
            }
        }
        return false;
    }

    private void breakPatterns(int a, int b) {
        int length = b - a;
        if (length >= 8) {
            long random = length;
            long modulus = 1L << (64 - Long.numberOfLeadingZeros(length));
            for (int idx = a + (length / 4) * 2 - 1; idx <= a + (length / 4) * 2 + 1; idx++) {
                random ^= random << 13;
                random ^= random >>> 7;
                random ^= random << 17;
                int other = (int) (random & (modulus - 1));
                if (other >= length) {
                    other -= length;
                }
                swap(idx, a + other);
            }
        }
    }

    private int[] choosePivot(int a, int b) {
        final int shortestNinther = 50;
        final int maxSwaps = 4 * 3;
        int l = b - a;
        int[] swaps = {0};
        int i = a + l / 4;
        int j = a + l / 4 * 2;
        int k = a + l / 4 * 3;
        if (l >= 8) {
            if (l >= shortestNinther) {
                i = median(i - 1, i, i + 1, swaps);
                j = median(j - 1, j, j + 1, swaps);
                k = median(k - 1, k, k + 1, swaps);
            }
            j = median(i, j, k, swaps);
        }
        int hint = swaps[0] == 0 ? INCREASING : swaps[0] == maxSwaps ? DECREASING : 0;
        return new int[] {j, hint};
    }

    private int median(int a, int b, int c, int[] swaps) {
        // order2(a, b), order2(b, c), order2(a, b): the middle one ends in b.
        if (less(b, a)) {
            swaps[0]++;
            int t = a;
            a = b;
            b = t;
        }
        if (less(c, b)) {
            swaps[0]++;
            b = c;
        }
        if (less(b, a)) {
            swaps[0]++;
            b = a;
        }
        return b;
    }

    private void reverseRange(int a, int b) {
        int i = a;
        int j = b - 1;
        while (i < j) {
            swap(i, j);
            i++;
            j--;
        }
    }
}
