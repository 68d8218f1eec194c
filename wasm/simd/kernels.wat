;; kernels.wat: the WebAssembly SIMD128 matrix products of DPO Playground.
;;
;; This module owns no memory: it imports the Go instance's own memory
;; (env.memory, Go's exported "mem") and works on Go slices in place. Every
;; address is a byte offset into that memory; every stride is in elements.
;;
;; gemm computes, for i < m and j < n,
;;
;;   s = Σ_p A(i,p)·B(p,j)   (p = 0..k−1 ascending, starting from +0)
;;   C(i,j) = s, or C(i,j) + s when acc ≠ 0
;;
;; with A(i,p) at a + 4·(i·ars + p·acs), B(p,j) at b + 4·(p·ldb + j) and
;; C(i,j) at c + 4·(i·ldc + j). (ars, acs) = (lda, 1) is the NN layout,
;; (1, lda) the TN layout; the NT layout transposes B first (transpose).
;;
;; Each lane of a vector holds one C(i,j) and adds the products in the order
;; above, one rounded multiply and one rounded add per term (no fused
;; multiply-add), so the results equal the portable Go kernels bit for bit.
;; The main micro-kernel keeps a 4×8 tile of C in 8 vector registers.
;;
;; expf and gelu are package tensor's float32 exponential (expfs) and
;; GELUKeep, four lanes at a time, with the same operations in the same
;; order, so they too equal the Go code bit for bit.
(module
  (import "env" "memory" (memory 0))

  ;; k4x8: the 4×8 tile at c (4 rows of A from a, 8 columns of B from b).
  ;; Byte strides: ldc, ars, acs, ldb.
  (func $k4x8 (param $c i32) (param $ldc i32) (param $a i32) (param $ars i32) (param $acs i32)
              (param $b i32) (param $ldb i32) (param $k i32) (param $acc i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local.set $a1 (i32.add (local.get $a) (local.get $ars)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $ars)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $ars)))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $b0 (v128.load align=4 (local.get $b)))
        (local.set $b1 (v128.load offset=16 align=4 (local.get $b)))
        (local.set $x (v128.load32_splat align=4 (local.get $a)))
        (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat align=4 (local.get $a1)))
        (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat align=4 (local.get $a2)))
        (local.set $s20 (f32x4.add (local.get $s20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $s21 (f32x4.add (local.get $s21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat align=4 (local.get $a3)))
        (local.set $s30 (f32x4.add (local.get $s30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $s31 (f32x4.add (local.get $s31) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (local.get $acs)))
        (local.set $a1 (i32.add (local.get $a1) (local.get $acs)))
        (local.set $a2 (i32.add (local.get $a2) (local.get $acs)))
        (local.set $a3 (i32.add (local.get $a3) (local.get $acs)))
        (local.set $b (i32.add (local.get $b) (local.get $ldb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $next)))
    (call $store4 (local.get $c) (local.get $s00) (local.get $acc))
    (call $store4 (i32.add (local.get $c) (i32.const 16)) (local.get $s01) (local.get $acc))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (call $store4 (local.get $c) (local.get $s10) (local.get $acc))
    (call $store4 (i32.add (local.get $c) (i32.const 16)) (local.get $s11) (local.get $acc))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (call $store4 (local.get $c) (local.get $s20) (local.get $acc))
    (call $store4 (i32.add (local.get $c) (i32.const 16)) (local.get $s21) (local.get $acc))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (call $store4 (local.get $c) (local.get $s30) (local.get $acc))
    (call $store4 (i32.add (local.get $c) (i32.const 16)) (local.get $s31) (local.get $acc)))

  ;; k4x4: the 4×4 tile at c.
  (func $k4x4 (param $c i32) (param $ldc i32) (param $a i32) (param $ars i32) (param $acs i32)
              (param $b i32) (param $ldb i32) (param $k i32) (param $acc i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $b0 v128)
    (local.set $a1 (i32.add (local.get $a) (local.get $ars)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $ars)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $ars)))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $b0 (v128.load align=4 (local.get $b)))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load32_splat align=4 (local.get $a)) (local.get $b0))))
        (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load32_splat align=4 (local.get $a1)) (local.get $b0))))
        (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (v128.load32_splat align=4 (local.get $a2)) (local.get $b0))))
        (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (v128.load32_splat align=4 (local.get $a3)) (local.get $b0))))
        (local.set $a (i32.add (local.get $a) (local.get $acs)))
        (local.set $a1 (i32.add (local.get $a1) (local.get $acs)))
        (local.set $a2 (i32.add (local.get $a2) (local.get $acs)))
        (local.set $a3 (i32.add (local.get $a3) (local.get $acs)))
        (local.set $b (i32.add (local.get $b) (local.get $ldb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $next)))
    (call $store4 (local.get $c) (local.get $s0) (local.get $acc))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (call $store4 (local.get $c) (local.get $s1) (local.get $acc))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (call $store4 (local.get $c) (local.get $s2) (local.get $acc))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (call $store4 (local.get $c) (local.get $s3) (local.get $acc)))

  ;; k1x8: one row, 8 columns.
  (func $k1x8 (param $c i32) (param $a i32) (param $acs i32) (param $b i32) (param $ldb i32)
              (param $k i32) (param $acc i32)
    (local $s0 v128) (local $s1 v128) (local $x v128)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $x (v128.load32_splat align=4 (local.get $a)))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $x) (v128.load align=4 (local.get $b)))))
        (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $x) (v128.load offset=16 align=4 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (local.get $acs)))
        (local.set $b (i32.add (local.get $b) (local.get $ldb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $next)))
    (call $store4 (local.get $c) (local.get $s0) (local.get $acc))
    (call $store4 (i32.add (local.get $c) (i32.const 16)) (local.get $s1) (local.get $acc)))

  ;; k1x4: one row, 4 columns.
  (func $k1x4 (param $c i32) (param $a i32) (param $acs i32) (param $b i32) (param $ldb i32)
              (param $k i32) (param $acc i32)
    (local $s0 v128)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $s0 (f32x4.add (local.get $s0)
          (f32x4.mul (v128.load32_splat align=4 (local.get $a)) (v128.load align=4 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (local.get $acs)))
        (local.set $b (i32.add (local.get $b) (local.get $ldb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $next)))
    (call $store4 (local.get $c) (local.get $s0) (local.get $acc)))

  ;; k1x1: one element, scalar.
  (func $k1x1 (param $c i32) (param $a i32) (param $acs i32) (param $b i32) (param $ldb i32)
              (param $k i32) (param $acc i32)
    (local $s f32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $a)) (f32.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (local.get $acs)))
        (local.set $b (i32.add (local.get $b) (local.get $ldb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $next)))
    (if (local.get $acc)
      (then (local.set $s (f32.add (f32.load (local.get $c)) (local.get $s)))))
    (f32.store (local.get $c) (local.get $s)))

  ;; store4 writes s to c, adding what c holds when acc ≠ 0.
  (func $store4 (param $c i32) (param $s v128) (param $acc i32)
    (if (local.get $acc)
      (then (local.set $s (f32x4.add (v128.load align=4 (local.get $c)) (local.get $s)))))
    (v128.store align=4 (local.get $c) (local.get $s)))

  ;; row1 computes row i of C (c, a at that row) over all n columns.
  (func $row1 (param $c i32) (param $a i32) (param $acs i32) (param $b i32) (param $ldb i32)
              (param $k i32) (param $n i32) (param $acc i32)
    (local $j i32)
    (block $done8
      (loop $next8
        (br_if $done8 (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $n)))
        (call $k1x8 (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))) (local.get $a) (local.get $acs)
                    (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb) (local.get $k) (local.get $acc))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $next8)))
    (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $n))
      (then
        (call $k1x4 (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))) (local.get $a) (local.get $acs)
                    (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb) (local.get $k) (local.get $acc))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))))
    (block $done1
      (loop $next1
        (br_if $done1 (i32.ge_u (local.get $j) (local.get $n)))
        (call $k1x1 (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))) (local.get $a) (local.get $acs)
                    (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb) (local.get $k) (local.get $acc))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next1))))

  ;; gemm: see the header. Strides are in elements; m, k, n ≥ 0.
  (func (export "gemm") (param $c i32) (param $ldc i32) (param $a i32) (param $ars i32) (param $acs i32)
                        (param $b i32) (param $ldb i32) (param $m i32) (param $k i32) (param $n i32) (param $acc i32)
    (local $i i32) (local $j i32) (local $cj i32) (local $bj i32) (local $r i32)
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $ars (i32.shl (local.get $ars) (i32.const 2)))
    (local.set $acs (i32.shl (local.get $acs) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    ;; blocks of 4 rows
    (block $rows4done
      (loop $rows4
        (br_if $rows4done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $m)))
        (local.set $j (i32.const 0))
        (block $cols8done
          (loop $cols8
            (br_if $cols8done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $n)))
            (call $k4x8 (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldc)
                        (local.get $a) (local.get $ars) (local.get $acs)
                        (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
                        (local.get $k) (local.get $acc))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $cols8)))
        (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $n))
          (then
            (call $k4x4 (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldc)
                        (local.get $a) (local.get $ars) (local.get $acs)
                        (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
                        (local.get $k) (local.get $acc))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))))
        ;; the last n mod 4 columns, one element at a time
        (block $colsdone
          (loop $cols1
            (br_if $colsdone (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $cj (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $bj (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $r (i32.const 0))
            (block $rdone
              (loop $rnext
                (br_if $rdone (i32.ge_u (local.get $r) (i32.const 4)))
                (call $k1x1 (i32.add (local.get $cj) (i32.mul (local.get $r) (local.get $ldc)))
                            (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $ars))) (local.get $acs)
                            (local.get $bj) (local.get $ldb) (local.get $k) (local.get $acc))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $rnext)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cols1)))
        (local.set $c (i32.add (local.get $c) (i32.shl (local.get $ldc) (i32.const 2))))
        (local.set $a (i32.add (local.get $a) (i32.shl (local.get $ars) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows4)))
    ;; the last m mod 4 rows
    (block $rowsdone
      (loop $rows1
        (br_if $rowsdone (i32.ge_u (local.get $i) (local.get $m)))
        (call $row1 (local.get $c) (local.get $a) (local.get $acs) (local.get $b) (local.get $ldb)
                    (local.get $k) (local.get $n) (local.get $acc))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (local.set $a (i32.add (local.get $a) (local.get $ars)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows1))))

  ;; transpose writes dst[c·rows + r] = src[r·lds + c] for r < rows, c < cols
  ;; (dst is (cols, rows), contiguous), moving 4×4 blocks through registers.
  (func (export "transpose") (param $dst i32) (param $src i32) (param $rows i32) (param $cols i32) (param $lds i32)
    (local $r i32) (local $c i32) (local $s i32) (local $d i32) (local $drow i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $lds (i32.shl (local.get $lds) (i32.const 2)))
    (local.set $drow (i32.shl (local.get $rows) (i32.const 2)))
    (block $rdone
      (loop $rnext
        (br_if $rdone (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $cdone
          (loop $cnext
            (br_if $cdone (i32.gt_u (i32.add (local.get $c) (i32.const 4)) (local.get $cols)))
            (local.set $s (i32.add (local.get $src)
              (i32.add (i32.mul (local.get $r) (local.get $lds)) (i32.shl (local.get $c) (i32.const 2)))))
            (local.set $x0 (v128.load align=4 (local.get $s)))
            (local.set $x1 (v128.load align=4 (i32.add (local.get $s) (local.get $lds))))
            (local.set $x2 (v128.load align=4 (i32.add (local.get $s) (i32.shl (local.get $lds) (i32.const 1)))))
            (local.set $x3 (v128.load align=4 (i32.add (local.get $s) (i32.mul (local.get $lds) (i32.const 3)))))
            ;; 4×4 transpose: interleave pairs, then halves
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x0) (local.get $x1)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x0) (local.get $x1)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x2) (local.get $x3)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x2) (local.get $x3)))
            (local.set $d (i32.add (local.get $dst)
              (i32.add (i32.mul (local.get $c) (local.get $drow)) (i32.shl (local.get $r) (i32.const 2)))))
            (v128.store align=4 (local.get $d)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (v128.store align=4 (i32.add (local.get $d) (local.get $drow))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (v128.store align=4 (i32.add (local.get $d) (i32.shl (local.get $drow) (i32.const 1)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (v128.store align=4 (i32.add (local.get $d) (i32.mul (local.get $drow) (i32.const 3)))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $cnext)))
        ;; columns past the last multiple of 4, element by element
        (block $tdone
          (loop $tnext
            (br_if $tdone (i32.ge_u (local.get $c) (local.get $cols)))
            (call $copycol (local.get $dst) (local.get $src) (local.get $r) (i32.add (local.get $r) (i32.const 4))
                           (local.get $c) (local.get $lds) (local.get $drow))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tnext)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rnext)))
    ;; rows past the last multiple of 4, element by element
    (local.set $c (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $c) (local.get $cols)))
        (call $copycol (local.get $dst) (local.get $src) (local.get $r) (local.get $rows)
                       (local.get $c) (local.get $lds) (local.get $drow))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $next))))

  ;; copycol moves src rows r0..r1−1 of column c into dst row c (byte strides lds, drow).
  (func $copycol (param $dst i32) (param $src i32) (param $r0 i32) (param $r1 i32) (param $c i32)
                 (param $lds i32) (param $drow i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $r0) (local.get $r1)))
        (f32.store
          (i32.add (local.get $dst) (i32.add (i32.mul (local.get $c) (local.get $drow)) (i32.shl (local.get $r0) (i32.const 2))))
          (f32.load
            (i32.add (local.get $src) (i32.add (i32.mul (local.get $r0) (local.get $lds)) (i32.shl (local.get $c) (i32.const 2))))))
        (local.set $r0 (i32.add (local.get $r0) (i32.const 1)))
        (br $next))))
;; expf4 is tensor's expf polynomial on four lanes, for |x| < 87: k = x·log₂e
  ;; rounded to nearest by adding and subtracting 1.5·2²³, Cody–Waite
  ;; reduction r = x − k·ln2hi − k·ln2lo, Cephes's degree-5 polynomial, and
  ;; scaling by 2^k built from its bits ((k + 127) << 23).
  (func $expf4 (param $x v128) (result v128)
    (local $fk v128) (local $r v128) (local $p v128)
    (local.set $fk (f32x4.sub
      (f32x4.add (f32x4.mul (local.get $x) (v128.const f32x4 0x1.715476p+00 0x1.715476p+00 0x1.715476p+00 0x1.715476p+00))
                 (v128.const f32x4 0x1.8p+23 0x1.8p+23 0x1.8p+23 0x1.8p+23))
      (v128.const f32x4 0x1.8p+23 0x1.8p+23 0x1.8p+23 0x1.8p+23)))
    (local.set $r (f32x4.sub (local.get $x)
      (f32x4.mul (local.get $fk) (v128.const f32x4 0x1.63p-01 0x1.63p-01 0x1.63p-01 0x1.63p-01))))
    (local.set $r (f32x4.sub (local.get $r)
      (f32x4.mul (local.get $fk) (v128.const f32x4 -0x1.bd0106p-13 -0x1.bd0106p-13 -0x1.bd0106p-13 -0x1.bd0106p-13))))
    (local.set $p (f32x4.add (f32x4.mul (v128.const f32x4 0x1.a0d2cep-13 0x1.a0d2cep-13 0x1.a0d2cep-13 0x1.a0d2cep-13) (local.get $r))
                             (v128.const f32x4 0x1.6e879cp-10 0x1.6e879cp-10 0x1.6e879cp-10 0x1.6e879cp-10)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
                             (v128.const f32x4 0x1.11121p-07 0x1.11121p-07 0x1.11121p-07 0x1.11121p-07)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
                             (v128.const f32x4 0x1.555382p-05 0x1.555382p-05 0x1.555382p-05 0x1.555382p-05)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
                             (v128.const f32x4 0x1.555554p-03 0x1.555554p-03 0x1.555554p-03 0x1.555554p-03)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
                             (v128.const f32x4 0x1p-01 0x1p-01 0x1p-01 0x1p-01)))
    ;; y = (p·(r·r) + r) + 1
    (local.set $p (f32x4.add
      (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
      (v128.const f32x4 1 1 1 1)))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $fk)) (v128.const i32x4 127 127 127 127))
                 (i32.const 23))))

  ;; expf writes dst[i] = e^(src[i] − shift) for i < n rounded down to a
  ;; multiple of 4; lanes whose argument is outside |x| < 87 (or NaN) get an
  ;; unspecified value, which package tensor replaces.
  (func (export "expf") (param $dst i32) (param $src i32) (param $n i32) (param $shift f32)
    (local $end i32) (local $sh v128)
    (local.set $sh (f32x4.splat (local.get $shift)))
    (local.set $end (i32.add (local.get $src) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (v128.store align=4 (local.get $dst)
          (call $expf4 (f32x4.sub (v128.load align=4 (local.get $src)) (local.get $sh))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $next))))

  ;; gelu is tensor.GELUKeep for i < n rounded down to a multiple of 4:
  ;; a = s·(x + 0.044715·x·x·x), t = copysign((1 − e)/(1 + e), a) with
  ;; e = expf(−2|a|), th[i] = t, out[i] = 0.5·x·(1 + t). An argument −2|a| at
  ;; or below −87, where Go takes the exact float64 exponential, is raised to
  ;; −86.9: both give an e below 2⁻²⁵, so t is exactly 1 either way.
  (func (export "gelu") (param $out i32) (param $th i32) (param $inp i32) (param $n i32)
    (local $end i32) (local $x v128) (local $a v128) (local $e v128) (local $t v128)
    (local.set $end (i32.add (local.get $inp) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $inp) (local.get $end)))
        (local.set $x (v128.load align=4 (local.get $inp)))
        ;; a = s·(x + ((0.044715·x)·x)·x)
        (local.set $a (f32x4.mul (v128.const f32x4 0x1.988454p-01 0x1.988454p-01 0x1.988454p-01 0x1.988454p-01)
          (f32x4.add (local.get $x)
            (f32x4.mul (f32x4.mul (f32x4.mul (v128.const f32x4 0x1.6e4e26p-05 0x1.6e4e26p-05 0x1.6e4e26p-05 0x1.6e4e26p-05)
                                              (local.get $x)) (local.get $x)) (local.get $x)))))
        (local.set $e (call $expf4 (f32x4.max
          (f32x4.mul (v128.const f32x4 -2 -2 -2 -2) (f32x4.abs (local.get $a)))
          (v128.const f32x4 -0x1.5b999ap+06 -0x1.5b999ap+06 -0x1.5b999ap+06 -0x1.5b999ap+06))))
        (local.set $t (f32x4.div (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $e))
                                 (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e))))
        ;; copysign(t, a): t ≥ 0, so its bits or a's sign bit
        (local.set $t (v128.or (v128.and (local.get $t) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))
                               (v128.and (local.get $a) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))
        (v128.store align=4 (local.get $th) (local.get $t))
        (v128.store align=4 (local.get $out)
          (f32x4.mul (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $x))
                     (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $t))))
        (local.set $inp (i32.add (local.get $inp) (i32.const 16)))
        (local.set $th (i32.add (local.get $th) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $next))))
)
