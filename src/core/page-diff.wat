;; The page comparison of a delta transfer (page-diff.ts, transfer.ts): which 32-bit words of a 64 KiB page differ
;; from another page, written as a sparse record payload. 128-bit SIMD finds the changed 16-byte pieces; only those
;; are looked at word by word. The caller copies the pages in and the payload out.
;;
;; Memory (4 × 64 KiB): the page at 0, the page it is compared with at 65536, a page that stays zero at 131072 (to
;; compare with where there is none), the payload at 196608: a 2048-byte bitmap, bit (w & 7) of byte (w >> 3) set for
;; each word w that differs, then those words of the page XOR the other, in order.
(module
  (memory (export "memory") 4 4)

  ;; Compare the page at 0 with the one at $other; returns the number of words that differ, or -1 as soon as more
  ;; than $max do (the payload is then unfinished).
  (func (export "diff") (param $other i32) (param $max i32) (result i32)
    (local $i i32) (local $end i32) (local $x i32) (local $w i32) (local $k i32)
    (memory.fill (i32.const 196608) (i32.const 0) (i32.const 2048))
    (loop $pieces
      (if (v128.any_true (v128.xor (v128.load (local.get $i)) (v128.load (i32.add (local.get $other) (local.get $i)))))
        (then
          (local.set $end (i32.add (local.get $i) (i32.const 16)))
          (loop $words
            (local.set $x (i32.xor (i32.load (local.get $i)) (i32.load (i32.add (local.get $other) (local.get $i)))))
            (if (local.get $x)
              (then
                (if (i32.eq (local.get $k) (local.get $max)) (then (return (i32.const -1))))
                (local.set $w (i32.shr_u (local.get $i) (i32.const 2)))
                (i32.store8 offset=196608 (i32.shr_u (local.get $w) (i32.const 3))
                  (i32.or
                    (i32.load8_u offset=196608 (i32.shr_u (local.get $w) (i32.const 3)))
                    (i32.shl (i32.const 1) (i32.and (local.get $w) (i32.const 7)))))
                (i32.store offset=198656 (i32.shl (local.get $k) (i32.const 2)) (local.get $x))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br_if $words (i32.lt_u (local.get $i) (local.get $end)))))
        (else (local.set $i (i32.add (local.get $i) (i32.const 16)))))
      (br_if $pieces (i32.lt_u (local.get $i) (i32.const 65536))))
    (local.get $k)))
