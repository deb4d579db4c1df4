/* Force-included (gcc -include) into every C file compiled for the Linux package: glibc 2.29
 * gave exp, exp2, log, log2 and pow new symbol versions (faster code, same results), and a
 * program linked on Debian 11 (glibc 2.31) would otherwise need GLIBC_2.29 from the machine it
 * runs on. UOS 20 and early Kylin V10 have glibc 2.28, so references go to the old versions,
 * which every glibc still defines. tests/test_package.py checks the result. */
#if defined(__x86_64__)
__asm__(".symver exp,exp@GLIBC_2.2.5");
__asm__(".symver exp2,exp2@GLIBC_2.2.5");
__asm__(".symver log,log@GLIBC_2.2.5");
__asm__(".symver log2,log2@GLIBC_2.2.5");
__asm__(".symver pow,pow@GLIBC_2.2.5");
#endif
