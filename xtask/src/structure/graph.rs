//! The file graph of one target: its strongly connected components (the
//! import cycles) and, when there is none, each file's floor.

/// Files `0..n` and who imports whom.
pub struct Graph {
    next: Vec<Vec<usize>>,
}

impl Graph {
    pub fn new(n: usize, edges: &[(usize, usize)]) -> Graph {
        let mut next = vec![Vec::new(); n];
        for &(from, to) in edges {
            if from < n && to < n {
                next[from].push(to);
            }
        }
        Graph { next }
    }

    /// Every set of two or more files that import each other, directly or
    /// around a circle (Tarjan's algorithm, iterative).
    pub fn cycles(&self) -> Vec<Vec<usize>> {
        let n = self.next.len();
        let mut index = vec![usize::MAX; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        let mut counter = 0;
        let mut found = Vec::new();
        for start in 0..n {
            if index[start] != usize::MAX {
                continue;
            }
            // (node, position in its successor list)
            let mut work = vec![(start, 0)];
            index[start] = counter;
            low[start] = counter;
            counter += 1;
            stack.push(start);
            on_stack[start] = true;
            while let Some(&mut (v, ref mut pos)) = work.last_mut() {
                if let Some(&w) = self.next[v].get(*pos) {
                    *pos += 1;
                    if index[w] == usize::MAX {
                        index[w] = counter;
                        low[w] = counter;
                        counter += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        component.sort_unstable();
                        found.push(component);
                    }
                }
            }
        }
        found.sort();
        found
    }

    /// Files by floor (floor 0 imports no file of the target), or `None` when
    /// there is a cycle.
    pub fn floors(&self) -> Option<Vec<Vec<usize>>> {
        let n = self.next.len();
        let mut floor: Vec<Option<usize>> = vec![None; n];
        let mut visiting = vec![false; n];
        for start in 0..n {
            self.floor_of(start, &mut floor, &mut visiting)?;
        }
        let top = floor.iter().flatten().copied().max().unwrap_or(0);
        let mut floors = vec![Vec::new(); top + 1];
        for (file, f) in floor.iter().enumerate() {
            floors[(*f)?].push(file);
        }
        Some(floors)
    }

    fn floor_of(
        &self,
        v: usize,
        floor: &mut [Option<usize>],
        visiting: &mut [bool],
    ) -> Option<usize> {
        if let Some(f) = floor[v] {
            return Some(f);
        }
        if visiting[v] {
            return None;
        }
        visiting[v] = true;
        let mut f = 0;
        for &w in &self.next[v] {
            f = f.max(self.floor_of(w, floor, visiting)? + 1);
        }
        visiting[v] = false;
        floor[v] = Some(f);
        Some(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_circle_is_found_and_a_chain_is_not() {
        let g = Graph::new(5, &[(0, 1), (1, 2), (2, 0), (3, 4)]);
        assert_eq!(g.cycles(), vec![vec![0, 1, 2]]);
        assert!(g.floors().is_none());
        let chain = Graph::new(3, &[(2, 1), (1, 0)]);
        assert!(chain.cycles().is_empty());
        assert_eq!(chain.floors(), Some(vec![vec![0], vec![1], vec![2]]));
    }
}
